// The two images, checked by parsing (no Docker engine here): Node 24 LTS bases, a non-root user, no secret copied or
// passed as an argument, OCI labels, the SBOM inside, and a build context that keeps secrets out (Docker's ignore rules).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from './helpers.ts';

interface Step { op: string; args: string }
interface Stage { from: string; name: string | undefined; steps: Step[] }

const read = (file: string): string => readFileSync(path.join(repoRoot, file), 'utf8');

/** Instructions per stage, continuation lines joined, `${ARG}` in FROM resolved from the global ARGs. */
function parseDockerfile(file: string): { args: Record<string, string>; stages: Stage[] } {
  const lines = read(file).replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, op = '', rest = ''] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    if (op.toUpperCase() === 'FROM') {
      const [image = '', , name] = rest.split(/\s+/);
      stages.push({ from: image.replace(/^\$\{(\w+)\}$/, (_m, arg: string) => args[arg] ?? image), name, steps: [] });
    } else if (op.toUpperCase() === 'ARG' && stages.length === 0) {
      const [key = '', value = ''] = rest.split('=');
      args[key] = value;
    } else {
      stages.at(-1)?.steps.push({ op: op.toUpperCase(), args: rest });
    }
  }
  return { args, stages };
}

/** Docker's .dockerignore rules: `*`, `?`, `**`; a pattern also matches everything under what it matches; the last matching line wins; `!` re-includes. */
function excludedBy(patterns: string[]): (file: string) => boolean {
  const rules = patterns.map((line) => {
    const negated = line.startsWith('!');
    const pattern = path.posix.normalize((negated ? line.slice(1) : line).trim().replace(/^\//, ''));
    const source = pattern.split('/').map((part) => (part === '**' ? '\u0000' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')))
      .join('/').replace(/\u0000\//g, '(?:.*/)?').replace(/\/\u0000/g, '(?:/.*)?').replace(/\u0000/g, '.*');
    return { negated, regex: new RegExp(`^${source}$`) };
  });
  return (file) => {
    const parts = file.split('/');
    const prefixes = parts.map((_p, i) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const rule of rules) if (prefixes.some((p) => rule.regex.test(p))) excluded = !rule.negated;
    return excluded;
  };
}

const ignoreLines = (file: string): string[] => read(file).split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
const labels = (stage: Stage): Record<string, string> =>
  Object.fromEntries(stage.steps.filter((s) => s.op === 'LABEL').flatMap((s) => [...s.args.matchAll(/([\w.-]+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!])));

const IMAGES = [
  { dockerfile: 'Dockerfile', ignore: '.dockerignore', pkg: 'package.json', sbomArgs: /^node scripts\/sbom\.mjs \/src\/sbom\.cdx\.json$/ },
  { dockerfile: 'operator/Dockerfile', ignore: 'operator/Dockerfile.dockerignore', pkg: 'operator/package.json', sbomArgs: /^node scripts\/sbom\.mjs \/src\/sbom\.cdx\.json --workspace @cicada\/operator$/ },
];

const SECRET_FILE = /(^|\/)(\.env[^/]*|[^/]*\.pem|[^/]*\.key|\.npmrc|id_rsa[^/]*|id_ed25519[^/]*|[^/]*\.minisig)$/;

for (const image of IMAGES) {
  describe(`${image.dockerfile}`, () => {
    const { args, stages } = parseDockerfile(image.dockerfile);
    const final = stages.at(-1)!;

    it('builds and runs on Node 24 LTS: node:24-… build stages, distroless nodejs24 runtime', () => {
      assert.ok(stages.length >= 2);
      for (const stage of stages.slice(0, -1)) assert.match(stage.from, /^node:24-[a-z0-9-]+$/, `${stage.name}: ${stage.from}`);
      assert.match(final.from, /^gcr\.io\/distroless\/nodejs24-debian12:nonroot$/);
      assert.deepEqual(Object.keys(args).sort(), ['BUILD_IMAGE', 'RUNTIME_IMAGE']);
    });

    it('runs as a numeric non-root user', () => {
      const user = final.steps.filter((s) => s.op === 'USER').at(-1)?.args ?? '';
      const ids = user.split(':');
      assert.ok(ids.length <= 2 && ids.every((id) => /^\d+$/.test(id) && Number(id) > 0), `USER ${user}: numeric, not root`);
    });

    it('copies no secret, never the whole context, and takes no secret as an argument or environment variable', () => {
      for (const stage of stages) {
        for (const step of stage.steps) {
          assert.notEqual(step.op, 'ADD', 'COPY only (ADD fetches URLs and unpacks archives)');
          if (step.op === 'COPY' && !step.args.startsWith('--from=')) {
            for (const source of step.args.split(/\s+/).filter((a) => !a.startsWith('--')).slice(0, -1)) {
              assert.ok(source !== '.' && source !== './' && !source.includes('*'), `COPY ${source}: name what the image needs`);
              assert.doesNotMatch(source, SECRET_FILE);
            }
          }
          if (step.op === 'ARG' || step.op === 'ENV') assert.doesNotMatch(step.args, /(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE|_KEY\b)/i, `${step.op} ${step.args}`);
          if (step.op === 'RUN') assert.doesNotMatch(step.args, /CICADA_SIGNING|NPM_TOKEN|_authToken/);
        }
      }
    });

    it('carries the OCI labels: source, version (the package\'s), revision, licenses', () => {
      const own = JSON.parse(read(image.pkg)) as { version: string; license: string };
      const given = labels(final);
      assert.equal(given['org.opencontainers.image.licenses'], own.license);
      assert.equal(given['org.opencontainers.image.version'], '${VERSION}');
      assert.equal(given['org.opencontainers.image.source'], '${SOURCE_URL}');
      assert.equal(given['org.opencontainers.image.revision'], '${REVISION}');
      const versionArg = final.steps.find((s) => s.op === 'ARG' && s.args.startsWith('VERSION='));
      assert.equal(versionArg?.args, `VERSION=${own.version}`, 'the default VERSION follows the package');
      assert.ok(final.steps.some((s) => s.op === 'ARG' && /^SOURCE_URL(=|$)/.test(s.args)));
    });

    it('ships the SBOM of its runtime dependencies at /app/sbom.cdx.json, made by scripts/sbom.mjs in a build stage', () => {
      const copy = final.steps.find((s) => s.op === 'COPY' && /\/src\/sbom\.cdx\.json \.\/sbom\.cdx\.json$/.test(s.args));
      assert.ok(copy, 'COPY --from=… /src/sbom.cdx.json ./sbom.cdx.json');
      assert.equal(final.steps.filter((s) => s.op === 'WORKDIR')[0]?.args, '/app');
      const from = /--from=(\S+)/.exec(copy.args)![1];
      const stage = stages.find((s) => s.name === from);
      assert.ok(stage, `a stage named ${from}`);
      assert.ok(stage.steps.some((s) => s.op === 'RUN' && image.sbomArgs.test(s.args)), `stage ${from} runs scripts/sbom.mjs`);
      assert.ok(stage.steps.some((s) => s.op === 'COPY' && s.args === 'scripts/sbom.mjs ./scripts/sbom.mjs'));
    });

    it(`has a build context (${image.ignore}) that lets in every file it copies and no secret, wherever it lies`, () => {
      const excluded = excludedBy(ignoreLines(image.ignore));
      for (const stage of stages) {
        for (const step of stage.steps.filter((s) => s.op === 'COPY' && !s.args.startsWith('--from='))) {
          for (const source of step.args.split(/\s+/).slice(0, -1)) {
            assert.ok(existsSync(path.join(repoRoot, source)), `COPY ${source}: not in the repository`);
            assert.ok(!excluded(source), `COPY ${source} is excluded by ${image.ignore}`);
          }
        }
      }
      for (const secret of ['.env', '.env.local', 'src/.env.production', '.npmrc', 'operator/.npmrc', 'tls.key', 'operator/src/server.key',
        'cert.pem', 'src/web/dev.pem', 'id_rsa', 'release/SHA256SUMS.minisig', 'operator/src/.env']) {
        assert.ok(excluded(secret), `${secret} must stay out of the build context`);
      }
      for (const kept of ['package.json', 'package-lock.json', 'scripts/sbom.mjs', 'operator/package.json']) assert.ok(!excluded(kept), kept);
      assert.ok(excluded('.git/config') && excluded('node_modules/x/index.js') && excluded('operator/node_modules/y.js'));
    });
  });
}

describe('the Docker ignore rules as this test reads them', () => {
  it('follow Docker: directories carry their contents, ** spans folders, the last match wins, ! re-includes', () => {
    const excluded = excludedBy(['scripts', '!scripts/sbom.mjs', '**/*.key', '*.log', 'docs/**/*.md']);
    assert.ok(excluded('scripts/run-tests.mjs'));
    assert.ok(!excluded('scripts/sbom.mjs'));
    assert.ok(excluded('a/b/c.key') && excluded('c.key'));
    assert.ok(excluded('x.log') && !excluded('sub/x.log'));
    assert.ok(excluded('docs/a.md') && excluded('docs/x/y/a.md') && !excluded('docs/a.json'));
    const allow = excludedBy(['*', '!operator/src', '**/*.test.ts']);
    assert.ok(allow('anything') && allow('README.md') && !allow('operator/src/index.ts') && allow('operator/src/a.test.ts') && allow('operator/bin/x'));
  });
});
