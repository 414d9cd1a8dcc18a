// Master/worker credentials from flags and environment: the shared secret and the TLS files; the secrets taken from the environment at start.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { UsageError } from '../core/errors.ts';
import { isLoopback } from '../core/loopback.ts';
import { registerSecret } from '../core/secrets.ts';
import type { CicadaOptions } from './options.ts';

/** Cicada's own secrets given by environment variable, taken out of `process.env` before any cicadafile runs. */
export interface LaunchSecrets {
  /** CICADA_SECRET: the master/worker shared secret. */
  clusterSecret?: string;
  /** CICADA_WEB_OIDC_CLIENT_SECRET. */
  oidcClientSecret?: string;
}

/**
 * Reads CICADA_SECRET and CICADA_WEB_OIDC_CLIENT_SECRET and deletes them from `env`, so a cicadafile (any
 * code it imports) and child processes cannot read them; the values travel on as arguments. Both are
 * masked in output from then on.
 */
export function takeLaunchSecrets(env: NodeJS.ProcessEnv): LaunchSecrets {
  const taken: LaunchSecrets = {};
  const cluster = env.CICADA_SECRET;
  const oidc = env.CICADA_WEB_OIDC_CLIENT_SECRET;
  delete env.CICADA_SECRET;
  delete env.CICADA_WEB_OIDC_CLIENT_SECRET;
  if (cluster !== undefined && cluster !== '') taken.clusterSecret = cluster;
  if (oidc !== undefined && oidc !== '') taken.oidcClientSecret = oidc;
  for (const value of [cluster, oidc]) if (value !== undefined) registerSecret(value.trim());
  return taken;
}

export interface ClusterAuth {
  secret: Buffer | undefined;
  tls: { cert?: Buffer; key?: Buffer; ca?: Buffer } | undefined;
}

/** A fresh secret for `cicada secret` and for `--processes`: 32 random bytes, base64url. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

async function readOrExplain(file: string, flag: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new UsageError(`${flag} ${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`, 'check the path and its permissions');
  }
}

/** Reads the secret (--secret-file, else CICADA_SECRET as taken at start; never logged, masked) and TLS material; checks they are complete and long enough. */
export async function loadClusterAuth(options: CicadaOptions, launch: LaunchSecrets): Promise<ClusterAuth> {
  let secretText: string | undefined;
  if (options.secretFile !== undefined) secretText = (await readOrExplain(options.secretFile, '--secret-file')).toString('utf8').trim();
  else if (launch.clusterSecret !== undefined) secretText = launch.clusterSecret.trim();
  if (secretText !== undefined) registerSecret(secretText);
  if (secretText !== undefined && secretText.length < 16) {
    throw new UsageError('the master/worker secret is too short (fewer than 16 characters)', 'make one with `cicada secret` and give the same one to the master and every worker');
  }
  const { clusterTlsCert: cert, clusterTlsKey: key, clusterTlsCa: ca } = options;
  if ((cert === undefined) !== (key === undefined)) {
    throw new UsageError('--cluster-tls-cert and --cluster-tls-key go together', 'pass both, or neither');
  }
  const tls = cert !== undefined || ca !== undefined
    ? {
        ...(cert !== undefined ? { cert: await readOrExplain(cert, '--cluster-tls-cert') } : {}),
        ...(key !== undefined ? { key: await readOrExplain(key, '--cluster-tls-key') } : {}),
        ...(ca !== undefined ? { ca: await readOrExplain(ca, '--cluster-tls-ca') } : {}),
      }
    : undefined;
  return { secret: secretText === undefined ? undefined : Buffer.from(secretText, 'utf8'), tls };
}

/** The one definition of loopback (core/loopback.ts), re-exported for the CLI files that import it from here. */
export { isLoopback } from '../core/loopback.ts';

/** A master bound beyond loopback needs a secret or mutual TLS, unless --insecure (which warns). */
export function checkMasterBind(options: CicadaOptions, auth: ClusterAuth, warn: (m: string) => void): void {
  const authenticated = auth.secret !== undefined || (auth.tls?.ca !== undefined && auth.tls.cert !== undefined);
  if (auth.tls !== undefined && (auth.tls.cert === undefined || auth.tls.key === undefined)) {
    throw new UsageError('the master needs --cluster-tls-cert and --cluster-tls-key to serve TLS', 'pass both (and --cluster-tls-ca for mutual TLS)');
  }
  if (isLoopback(options.masterBindHost) || authenticated) return;
  if (!options.insecure) {
    throw new UsageError(
      `refusing to bind the master to ${options.masterBindHost} without authentication: anyone who can reach it could join as a worker`,
      'set CICADA_SECRET (or --secret-file) on the master and workers — `cicada secret` makes one — or use --cluster-tls-cert/--cluster-tls-key/--cluster-tls-ca; --insecure overrides this',
    );
  }
  warn(`the master listens on ${options.masterBindHost} WITHOUT authentication (--insecure): anyone who can reach it can join as a worker`);
}
