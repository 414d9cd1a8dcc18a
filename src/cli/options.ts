// Command-line options: one table of flags, read from defaults < config file < CICADA_* environment < command line, then checked.
import { Command, CommanderError, Option } from 'commander';
import { UsageError } from '../core/errors.ts';
import { checkConfigKeys, configValueToRaw, DEFAULT_CONFIG_FILE, findConfigFile, readConfigFile, type ConfigFile, type RawValue, type ValueKind } from './config-file.ts';
import { didYouMean } from '../core/did-you-mean.ts';
import { parseBoolean, parseChoice, parseHostUrl, parsePort, parsePositiveInt, parseRate, parseTimeSpan, splitList } from '../core/parse-values.ts';

export type LogLevelName = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';

/** Every setting of a run, after parsing. Durations are in seconds. */
export interface CicadaOptions {
  cicadafiles: string[];
  config?: string;
  host?: string;
  users?: number;
  spawnRate?: number;
  runTime?: number;
  /** `--arrival-rate`: iterations per second of one constant-arrival-rate scenario (with -t). */
  arrivalRate?: number;
  maxUsers?: number;
  preAllocatedUsers?: number;
  /** `-i/--iterations`: iterations in all, shared by -u users. */
  iterations?: number;
  /** `--scenario`: run only these scenarios. */
  scenario: string[];
  list: boolean;
  headless: boolean;
  autostart: boolean;
  autoquit?: number;
  webHost: string;
  webPort: number;
  tlsCert?: string;
  tlsKey?: string;
  /** TOML users file for web logins (scrypt hashes and roles). */
  webUsers?: string;
  webOidcIssuer?: string;
  webOidcClientId?: string;
  /** File with the OIDC client secret (else CICADA_WEB_OIDC_CLIENT_SECRET). */
  webOidcClientSecretFile?: string;
  /** Absolute URL of /auth/oidc/callback as the browser sees it (default: from --web-host and --web-port). */
  webOidcRedirectUrl?: string;
  /** Claim holding the user's groups or roles. */
  webOidcRoleClaim: string;
  /** `claim value=role` pairs. */
  webOidcRoles: string[];
  master: boolean;
  masterBindHost: string;
  /** `--master-allow CIDR` (repeatable): only these source addresses may open a connection to the master. */
  masterAllow: string[];
  /** `--web-trust-proxy CIDR` (repeatable): proxies whose X-Forwarded-For names the client (rate limits per real client). */
  webTrustProxy: string[];
  masterBindPort: number;
  expectWorkers: number;
  expectWorkersMaxWait: number;
  worker: boolean;
  masterHost: string;
  masterPort: number;
  processes?: number;
  tags: string[];
  excludeTags: string[];
  csv?: string;
  csvFullHistory: boolean;
  printStats: boolean;
  onlySummary: boolean;
  resetStats: boolean;
  html?: string;
  json: boolean;
  jsonFile?: string;
  /** `--threshold 'METRIC{tags} EXPR'` (repeatable): pass/fail criteria, merged with the cicadafile's and cicada.toml's. */
  threshold: string[];
  /** `--junit FILE`: JUnit XML of the thresholds and checks. */
  junit?: string;
  /** `--summary-json FILE`: one JSON document of the whole run. */
  summaryJson?: string;
  /** `--metrics-port`: a Prometheus /metrics listener for headless runs (the web UI serves /metrics itself). */
  metricsPort?: number;
  metricsHost: string;
  /** File holding the bearer token /metrics accepts (and that a non-loopback --metrics-host needs). */
  metricsTokenFile?: string;
  /** Seconds between pushes of the push exporters (remote write, OTLP, Graphite). */
  metricsInterval: number;
  prometheusRemoteWrite?: string;
  prometheusRemoteWriteTokenFile?: string;
  /** CA (PEM) the push exporters trust for their endpoints' certificates, beside the system's. */
  exportCaFile?: string;
  /** `--otel`: export metrics over OTLP, configured by the standard OTEL_EXPORTER_OTLP_* variables. */
  otel: boolean;
  /** `--graphite HOST:PORT`: Graphite's plaintext protocol. */
  graphite?: string;
  graphiteTls: boolean;
  graphitePrefix: string;
  /** Folder of files named after secrets (a Kubernetes Secret mount), read by `secret('NAME')`. */
  secretsDir?: string;
  loglevel: LogLevelName;
  logfile?: string;
  showTaskRatio: boolean;
  exitCodeOnError: number;
  stopTimeout: number;
  /** Seconds requests still in flight get after the stop timeout before they are cut (`--drain-timeout`). */
  drainTimeout: number;
  equalWeights: boolean;
  insecure: boolean;
  userClasses: string[];
  /** Default timeout of one request, in seconds (Cicada-specific). */
  requestTimeout: number;
  /** File holding the master/worker shared secret (else CICADA_SECRET). */
  secretFile?: string;
  clusterTlsCert?: string;
  clusterTlsKey?: string;
  clusterTlsCa?: string;
  /** Master/worker heartbeat and report interval, seconds. */
  heartbeatInterval: number;
  /** Heartbeats a worker may miss before the master marks it missing. */
  heartbeatLiveness: number;
  /** Seconds without word from the master after which a worker stops its users. */
  masterTimeout: number;
}

/** Where a setting's value came from; later sources win. */
export type OptionSource = 'default' | 'config' | 'env' | 'cli';
export type OptionSources = Record<keyof CicadaOptions, OptionSource>;

/** What the command line asks for; the caller prints and runs, nothing here writes or exits. */
export type ParsedCommand =
  | { command: 'run'; options: CicadaOptions; sources: OptionSources }
  | { command: 'demo'; options: CicadaOptions; sources: OptionSources }
  | { command: 'help'; text: string }
  | { command: 'version' };

/** The value of every setting nobody set. Optional fields are absent ("not set"). */
export function defaultOptions(): CicadaOptions {
  return {
    cicadafiles: ['cicadafile.ts'], list: false, headless: false, autostart: false,
    webHost: '127.0.0.1', webPort: 8089, master: false, masterBindHost: '127.0.0.1', masterBindPort: 5557,
    expectWorkers: 1, expectWorkersMaxWait: 0, worker: false, masterHost: '127.0.0.1', masterPort: 5557,
    tags: [], excludeTags: [], csvFullHistory: false, printStats: false, onlySummary: false, resetStats: false,
    json: false, loglevel: 'INFO', showTaskRatio: false, exitCodeOnError: 1, stopTimeout: 0, drainTimeout: 5,
    equalWeights: false, insecure: false, userClasses: [], requestTimeout: 60, webOidcRoleClaim: 'groups', webOidcRoles: [],
    heartbeatInterval: 1, heartbeatLiveness: 3, masterTimeout: 60, scenario: [], threshold: [], masterAllow: [], webTrustProxy: [], metricsHost: '127.0.0.1', metricsInterval: 5, otel: false, graphiteTls: false, graphitePrefix: 'cicada',
  };
}

/** One setting: its flags (`undefined` = not a flag), config key (= long name), help group and parser. */
interface Spec<T> {
  flags: string | undefined;
  long: string;
  kind: ValueKind;
  group: string;
  help: string;
  parse: (raw: RawValue, field: string) => T;
}

const G = {
  file: 'Cicadafile options:', common: 'Common options:', web: 'Web UI options:', master: 'Master options:',
  worker: 'Worker options:', tags: 'Tag options:', stats: 'Request statistics options:', log: 'Logging options:',
  export: 'Metrics export options:', other: 'Other options:',
} as const;

function longOf(flags: string): string {
  return /--([a-z0-9-]+)/.exec(flags)?.[1] ?? flags;
}
function flag(flags: string, group: string, help: string): Spec<boolean> {
  return { flags, long: longOf(flags), kind: 'flag', group, help, parse: (raw) => raw === true };
}
function value<T>(flags: string, group: string, help: string, parse: (text: string, field: string) => T): Spec<T> {
  return { flags, long: longOf(flags), kind: 'value', group, help, parse: (raw, field) => parse(String(raw), field) };
}
function list(flags: string, group: string, help: string, parse: (items: string[], field: string) => string[] = (items) => splitList(items)): Spec<string[]> {
  const long = flags.startsWith('-') ? longOf(flags) : flags;
  return { flags: flags.startsWith('-') ? flags : undefined, long, kind: 'list', group, help, parse: (raw, field) => parse(Array.isArray(raw) ? raw : [String(raw)], field) };
}

const text = (t: string, field: string): string => {
  if (t.trim() === '') throw new UsageError(`${field}: needs a value, got an empty string`, 'give a non-empty value or leave the setting out');
  return t.trim();
};
const span = (t: string, field: string): number => parseTimeSpan(t, field);
const positiveSpan = (t: string, field: string): number => {
  const seconds = parseTimeSpan(t, field);
  if (seconds <= 0) throw new UsageError(`${field}: must be greater than 0, got '${t}'`, 'e.g. 90, 30s, 5m or 1h30m');
  return seconds;
};
const processes = (t: string, field: string): number => {
  if (t.trim() === '-1') return -1;
  const n = /^\s*\d+\s*$/.test(t) ? Number(t) : 0;
  if (n >= 1 && Number.isSafeInteger(n)) return n;
  throw new UsageError(`${field}: expected -1 (one per CPU core) or a whole number ≥ 1, got '${t}'`, 'e.g. --processes 4 or --processes -1');
};
const logLevel = (t: string, field: string): LogLevelName =>
  parseChoice(t.trim().toUpperCase() === 'WARN' ? 'WARNING' : t, field, ['DEBUG', 'INFO', 'WARNING', 'ERROR'] as const);

/** The option table, in help order. Keyed by option so the compiler checks every field of CicadaOptions has one. */
type OptionKey = keyof CicadaOptions;
// Mapping over a key alias (not `keyof` inline) keeps every entry required, optional fields included.
type SpecTable = { [K in OptionKey]: Spec<CicadaOptions[K]> };
const specs: SpecTable = {
  cicadafiles: list('-f, --cicadafile <file>', G.file, 'cicadafile(s) to load: a file, a comma list or a folder; repeatable (default: cicadafile.ts)', (items, field) => {
    const files = splitList(items);
    if (files.length === 0) throw new UsageError(`${field}: needs at least one file`, 'e.g. -f cicadafile.ts');
    return files;
  }),
  config: value('--config <file>', G.file, `TOML config file; keys are long flag names (default: ./${DEFAULT_CONFIG_FILE} if present)`, text),
  host: value('-H, --host <url>', G.common, 'base URL of the system under test, e.g. http://localhost:8080', parseHostUrl),
  users: value('-u, --users <count>', G.common, 'peak number of concurrent users', (t, f) => parsePositiveInt(t, f, { min: 0 })),
  spawnRate: value('-r, --spawn-rate <rate>', G.common, 'users started per second (may be fractional, > 0)', parseRate),
  runTime: value('-t, --run-time <time>', G.common, 'stop after this long: 90, 30s, 5m, 1h30m (default: run until stopped)', positiveSpan),
  arrivalRate: value('--arrival-rate <rate>', G.common, 'open model: start this many iterations per second for -t, however slow the target gets (one constant-arrival-rate scenario)', parseRate),
  maxUsers: value('--max-users <count>', G.common, 'with --arrival-rate: the most users the pool may grow to (default: 10 × the rate); when all are busy, iterations are dropped and counted', (t, f) => parsePositiveInt(t, f, { min: 1 })),
  preAllocatedUsers: value('--pre-allocated-users <count>', G.common, 'with --arrival-rate: users started before the first iteration (default: the rate, at most --max-users)', (t, f) => parsePositiveInt(t, f, { min: 0 })),
  iterations: value('-i, --iterations <count>', G.common, 'run exactly this many iterations (tasks) in all, shared by -u users, then stop (-t caps the time)', (t, f) => parsePositiveInt(t, f, { min: 1 })),
  scenario: list('--scenario <name...>', G.common, 'run only these of the scenarios the cicadafile or config defines (repeatable)'),
  list: flag('-l, --list', G.common, 'list the user classes and exit'),
  requestTimeout: value('--request-timeout <time>', G.common, 'timeout of one request, in seconds or h/m/s units (default: 60)', positiveSpan),
  webHost: value('--web-host <host>', G.web, 'interface the web UI binds to (default: 127.0.0.1); any other needs --web-users or --web-oidc-issuer (or --insecure)', text),
  webPort: value('-P, --web-port <port>', G.web, 'port of the web UI (default: 8089)', parsePort),
  headless: flag('--headless', G.web, 'no web UI: start at once and print stats to the terminal'),
  autostart: flag('--autostart', G.web, 'start the test at once with -u/-r/-t (default 1 user at 1/s), keeping the web UI'),
  autoquit: value('--autoquit <time>', G.web, 'quit this long after the run ends; needs --autostart', span),
  tlsCert: value('--tls-cert <file>', G.web, 'certificate to serve the web UI over HTTPS', text),
  tlsKey: value('--tls-key <file>', G.web, 'private key to serve the web UI over HTTPS', text),
  webTrustProxy: list('--web-trust-proxy <cidr...>', G.web, 'trust X-Forwarded-For from these proxies (an Ingress), so rate limits apply per real client (repeatable)'),
  webUsers: value('--web-users <file>', G.web, 'TOML file of web users with roles and password hashes (`cicada hash-password` makes one)', text),
  webOidcIssuer: value('--web-oidc-issuer <url>', G.web, 'log in with OpenID Connect at this issuer (https, or http on loopback)', text),
  webOidcClientId: value('--web-oidc-client-id <id>', G.web, 'OIDC client id of this Cicada', text),
  webOidcClientSecretFile: value('--web-oidc-client-secret-file <file>', G.web, 'file with the OIDC client secret (default: the CICADA_WEB_OIDC_CLIENT_SECRET variable)', text),
  webOidcRedirectUrl: value('--web-oidc-redirect-url <url>', G.web, 'public URL of /auth/oidc/callback (default: from --web-host/--web-port)', text),
  webOidcRoleClaim: value('--web-oidc-role-claim <claim>', G.web, 'ID token claim with the user\'s groups or roles, e.g. groups or realm_access.roles (default: groups)', text),
  webOidcRoles: list('--web-oidc-roles <value=role...>', G.web, 'map claim values to roles, e.g. perf-admins=admin,perf-team=operator,staff=viewer', (items, field) => {
    const pairs = splitList(items);
    for (const pair of pairs) {
      if (!/^[^=]+=(viewer|operator|admin)$/.test(pair)) throw new UsageError(`${field}: '${pair}' is not value=role`, 'e.g. perf-admins=admin,perf-team=operator (roles: viewer, operator, admin)');
    }
    return pairs;
  }),
  master: flag('--master', G.master, 'run as master: workers connect and generate the load'),
  masterBindHost: value('--master-bind-host <host>', G.master, 'interface the master binds to (default: 127.0.0.1)', text),
  masterAllow: list('--master-allow <cidr...>', G.master, 'accept connections only from these addresses, e.g. 10.0.0.0/8 (repeatable); others are closed before a byte is read'),
  masterBindPort: value('--master-bind-port <port>', G.master, 'port the master listens on (default: 5557)', parsePort),
  expectWorkers: value('--expect-workers <count>', G.master, 'with --headless/--autostart, wait for this many workers (default: 1)', (t, f) => parsePositiveInt(t, f, { min: 1 })),
  expectWorkersMaxWait: value('--expect-workers-max-wait <time>', G.master, 'give up waiting for workers after this long (default: 0 = forever)', span),
  worker: flag('--worker', G.worker, 'run as worker, connecting to a master'),
  processes: value('--processes <n>', G.worker, 'start n worker processes (-1 = one per CPU core), plus a master unless --worker', processes),
  masterHost: value('--master-host <host>', G.worker, 'master to connect to (default: 127.0.0.1)', text),
  masterPort: value('--master-port <port>', G.worker, 'port of the master (default: 5557)', parsePort),
  secretFile: value('--secret-file <file>', G.master, 'file with the master/worker shared secret (default: the CICADA_SECRET variable); `cicada secret` makes one', text),
  clusterTlsCert: value('--cluster-tls-cert <file>', G.master, 'certificate of this master or worker for TLS between them', text),
  clusterTlsKey: value('--cluster-tls-key <file>', G.master, 'private key for --cluster-tls-cert', text),
  clusterTlsCa: value('--cluster-tls-ca <file>', G.master, 'CA that signs the peers\' certificates: turns on mutual TLS', text),
  heartbeatInterval: value('--heartbeat-interval <time>', G.master, 'master/worker heartbeat and stats report interval (default: 1)', positiveSpan),
  heartbeatLiveness: value('--heartbeat-liveness <n>', G.master, 'heartbeats a worker may miss before it is marked missing (default: 3)', (t, f) => parsePositiveInt(t, f, { min: 1 })),
  masterTimeout: value('--master-timeout <time>', G.worker, 'a worker stops its users after this long without the master (default: 60)', positiveSpan),
  tags: list('-T, --tags <tag...>', G.tags, 'run only tasks with one of these tags (several values or a comma list)'),
  excludeTags: list('-E, --exclude-tags <tag...>', G.tags, 'skip tasks with any of these tags'),
  csv: value('--csv <prefix>', G.stats, 'write CSV files <prefix>_stats.csv, _stats_history.csv, _failures.csv, _exceptions.csv', text),
  csvFullHistory: flag('--csv-full-history', G.stats, 'add every endpoint to the history CSV; needs --csv'),
  printStats: flag('--print-stats', G.stats, 'print the stats table in the terminal during UI runs'),
  onlySummary: flag('--only-summary', G.stats, 'print only the final summary, not periodic tables'),
  resetStats: flag('--reset-stats', G.stats, 'reset stats when spawning is complete'),
  html: value('--html <file>', G.stats, 'write an HTML report ({u}, {r}, {t} are replaced by users, rate, time)', text),
  json: flag('--json', G.stats, 'print the final stats as JSON to stdout'),
  jsonFile: value('--json-file <name>', G.stats, 'write the final stats to <name>.json', text),
  threshold: list('--threshold <expr...>', G.stats, "fail the run (exit 99) unless it holds, e.g. 'response_time{name:/login} p(95)<300'; repeatable, adds to the cicadafile's thresholds (CICADA_THRESHOLD: one per line or ';')", (items) => items.flatMap((i) => i.split(/[;\n]/)).map((i) => i.trim()).filter((i) => i !== '')),
  junit: value('--junit <file>', G.stats, 'write JUnit XML of the thresholds and checks (for CI test reports)', text),
  summaryJson: value('--summary-json <file>', G.stats, 'write one JSON document of the run: stats, thresholds, checks, scenarios, exit code', text),
  metricsPort: value('--metrics-port <port>', G.export, 'serve Prometheus /metrics on this port in a headless run (the web UI serves /metrics itself)', parsePort),
  metricsHost: value('--metrics-host <host>', G.export, 'interface of --metrics-port (default: 127.0.0.1); any other needs --metrics-token-file', text),
  metricsTokenFile: value('--metrics-token-file <file>', G.export, 'file with the bearer token /metrics accepts (Authorization: Bearer …)', text),
  metricsInterval: value('--metrics-interval <time>', G.export, 'how often the push exporters send (default: 5)', positiveSpan),
  prometheusRemoteWrite: value('--prometheus-remote-write <url>', G.export, 'push metrics to this Prometheus remote-write URL (e.g. https://prom:9090/api/v1/write)', text),
  prometheusRemoteWriteTokenFile: value('--prometheus-remote-write-token-file <file>', G.export, 'file with the bearer token for --prometheus-remote-write', text),
  exportCaFile: value('--export-ca-file <file>', G.export, 'CA certificate (PEM) the exporters trust for their endpoints', text),
  otel: flag('--otel', G.export, 'export metrics over OTLP, configured by OTEL_EXPORTER_OTLP_* (endpoint, protocol, headers, certificates)'),
  graphite: value('--graphite <host:port>', G.export, "send metrics to Graphite's plaintext port", text),
  graphiteTls: flag('--graphite-tls', G.export, 'connect to --graphite over TLS (trusting --export-ca-file)'),
  graphitePrefix: value('--graphite-prefix <prefix>', G.export, 'first part of every Graphite metric name (default: cicada)', text),
  secretsDir: value('--secrets-dir <dir>', G.other, "folder of files named after secrets (a Kubernetes Secret mount), read by secret('NAME')", text),
  loglevel: value('-L, --loglevel <level>', G.log, 'DEBUG, INFO, WARNING or ERROR, any case (default: INFO)', logLevel),
  logfile: value('--logfile <file>', G.log, 'write the log to this file (default: stderr)', text),
  showTaskRatio: flag('--show-task-ratio', G.other, 'print the task ratio of each user class and exit'),
  exitCodeOnError: value('--exit-code-on-error <code>', G.other, 'exit code when failures or errors were recorded, 0-255 (default: 1)', (t, f) => parsePositiveInt(t, f, { min: 0, max: 255 })),
  stopTimeout: value('-s, --stop-timeout <time>', G.other, 'let running tasks go on for this long when stopping (default: 0)', span),
  drainTimeout: value('--drain-timeout <time>', G.other, 'then give requests still in flight this long before they are cut and recorded as failed "cancelled at stop" (default: 5)', span),
  equalWeights: flag('--equal-weights', G.other, 'ignore task weights: every task is equally likely'),
  insecure: flag('--insecure', G.other, 'allow binding non-loopback interfaces without authentication (prints a warning)'),
  userClasses: list('user-classes', G.other, 'user classes to run (default: all)', (items) => splitList(items, /[\s,]+/)),
};

const keys = Object.keys(specs) as (keyof CicadaOptions)[];

/** `CICADA_<LONG_NAME>`: `spawn-rate` → `CICADA_SPAWN_RATE`. */
export function envName(long: string): string {
  return `CICADA_${long.toUpperCase().replace(/-/g, '_')}`;
}

function cliField(spec: Spec<unknown>): string {
  return spec.flags === undefined ? 'UserClass' : spec.flags.replace(/ <.*$/, '').replace(', ', '/');
}

/** The distributed-run flags (master/worker) parsed here but wired in a later release. */
export const distributedFlags: readonly (keyof CicadaOptions)[] = [
  'master', 'masterBindHost', 'masterBindPort', 'masterAllow', 'expectWorkers', 'expectWorkersMaxWait',
  'worker', 'masterHost', 'masterPort', 'processes',
];
/** The web UI flags, for a caller that runs without the web UI. */
export const webUiFlags: readonly (keyof CicadaOptions)[] = [
  'webHost', 'webPort', 'autostart', 'autoquit', 'tlsCert', 'tlsKey', 'webUsers', 'webOidcIssuer', 'webOidcClientId',
  'webOidcClientSecretFile', 'webOidcRedirectUrl', 'webOidcRoleClaim', 'webOidcRoles',
];

/**
 * The flags among `which` (default: distributed ones and --tls-*) that the user set explicitly, as `--name`,
 * so the caller can say they are not available instead of ignoring them. A switch set to false does not count.
 */
export function unavailableFlags(
  options: CicadaOptions,
  sources: OptionSources,
  which: readonly (keyof CicadaOptions)[] = [...distributedFlags, 'tlsCert', 'tlsKey'],
): string[] {
  return which.filter((key) => sources[key] !== 'default' && options[key] !== false).map((key) => `--${specs[key].long}`);
}

const HELP_WIDTH = 100;
const HELP_FOOTER = `
Every flag also comes from the environment variable in brackets, CICADA_<NAME> (e.g. CICADA_SPAWN_RATE=5,
CICADA_HEADLESS=true, CICADA_USER_CLASSES="Shopper Browser") and from a TOML config file
(./${DEFAULT_CONFIG_FILE}, or --config FILE / CICADA_CONFIG) whose keys are the long flag names:
  spawn-rate = 5
  tags = ["checkout", "search"]
  headless = true
Precedence: defaults < config file < environment < command line.
-T/-E take several values: put user class names before them, or use commas (-T a,b).

Examples:
  cicada -f cicadafile.ts --headless -u 100 -r 10 -t 5m -H http://localhost:8080
  cicada demo -t 10s`;

/** The options read from one command (root or subcommand): flag values the user typed, plus positional class names. */
function cliValues(cmd: Command, classes: readonly string[]): Map<keyof CicadaOptions, RawValue> {
  const values = new Map<keyof CicadaOptions, RawValue>();
  for (const key of keys) {
    const spec = specs[key];
    if (spec.flags === undefined) continue;
    const attribute = new Option(spec.flags).attributeName();
    if (cmd.getOptionValueSource(attribute) !== 'cli') continue;
    const raw = cmd.getOptionValue(attribute) as unknown;
    if (typeof raw === 'boolean' || typeof raw === 'string') values.set(key, raw);
    else if (Array.isArray(raw)) values.set(key, raw.map(String));
  }
  if (classes.length > 0) values.set('userClasses', [...classes]);
  return values;
}

/** Adds every run flag and the positional user classes to `cmd`. Subcommands that run a test reuse this. */
/** Groups of flags `cicada demo --help` leaves out: the demo is always a headless run in this process. */
const NOT_FOR_DEMO: ReadonlySet<string> = new Set([G.web, G.master, G.worker]);
const DEMO_HIDDEN_FLAGS: ReadonlySet<string> = new Set(['headless', 'autostart', 'autoquit', 'processes', 'show-task-ratio', 'list']);

/** Adds every run flag; `forDemo` hides (but still accepts) those the demo does not use. */
function addRunFlags(cmd: Command, forDemo = false): Command {
  for (const key of keys) {
    const spec = specs[key];
    if (spec.flags === undefined) continue;
    const option = new Option(spec.flags, `${spec.help} [${envName(spec.long)}]`).helpGroup(spec.group);
    if (forDemo && (NOT_FOR_DEMO.has(spec.group) || DEMO_HIDDEN_FLAGS.has(spec.long))) option.hideHelp();
    // Lists gather every occurrence: `-T a,b -T c` and `-f a.ts -f b.ts`; commas are split later.
    if (spec.kind === 'list') option.argParser((item: string, previous: string[] | undefined) => [...(previous ?? []), item]);
    cmd.addOption(option);
  }
  return cmd.argument('[UserClass...]', 'user classes to run (default: all) [CICADA_USER_CLASSES]')
    .optionsGroup(G.other)
    .helpOption('-h, --help', 'show this help and exit');
}

const allFlags = (): string[] => [...keys.flatMap((k) => (specs[k].flags === undefined ? [] : [`--${specs[k].long}`])), '--help', '--version'];

function fromCommanderError(error: CommanderError, output: string): ParsedCommand {
  if (error.code === 'commander.helpDisplayed' || error.code === 'commander.help') return { command: 'help', text: output };
  if (error.code === 'commander.unknownOption') {
    const name = (/'([^']+)'/.exec(error.message)?.[1] ?? '').split('=')[0] ?? '';
    const guess = didYouMean(name, allFlags());
    throw new UsageError(`unknown option '${name}'`, guess !== undefined ? `did you mean ${guess}?` : 'run cicada --help to see every option');
  }
  if (error.code === 'commander.optionMissingArgument') {
    const spec = keys.map((k) => specs[k]).find((sp) => sp.flags !== undefined && error.message.includes(`'${sp.flags}'`));
    throw new UsageError(`${spec === undefined ? 'an option' : cliField(spec)} needs a value`, 'run cicada --help to see what each option takes');
  }
  throw new UsageError(error.message.replace(/^error:\s*/, ''), 'run cicada --help to see every option');
}

/** Subcommand names, for the typo check on the first positional argument. */
const subcommands = ['demo', 'secret', 'hash-password'];

type Invocation = { command: 'run' | 'demo'; cli: Map<keyof CicadaOptions, RawValue> };

/** Parses argv with commander, which neither prints nor exits: help text is returned, errors are thrown as UsageError. */
function readCommandLine(argv: readonly string[]): Invocation | ParsedCommand {
  let output = '';
  let invocation: Invocation | undefined;
  const write = (s: string): void => {
    output += s;
  };
  const program = new Command('cicada')
    .exitOverride()
    .configureOutput({
      writeOut: write, writeErr: write, outputError: () => undefined,
      getOutHelpWidth: () => HELP_WIDTH, getErrHelpWidth: () => HELP_WIDTH, getOutHasColors: () => false, getErrHasColors: () => false,
    })
    .showSuggestionAfterError(false)
    // Flags after a subcommand belong to it (`cicada demo -t 10s`); flags before it to the root.
    .enablePositionalOptions()
    .usage('[options] [UserClass...]')
    .description('Load testing in TypeScript: run the user classes of a cicadafile against a host.')
    .helpCommand('help [command]', 'show help for a command');
  addRunFlags(program).addOption(new Option('-V, --version', 'print the version and exit').helpGroup(G.other));
  program.addHelpText('after', HELP_FOOTER);
  program.action((classes: string[]) => {
    const first = classes[0];
    const typo = first !== undefined && /^[a-z-]+$/.test(first) ? didYouMean(first, subcommands) : undefined;
    if (typo !== undefined) throw new UsageError(`unknown command '${first}'`, `did you mean 'cicada ${typo}'? (user class names are usually capitalised)`);
    invocation = { command: 'run', cli: cliValues(program, classes) };
  });

  // Subcommands. Each is added here; ones that do not run a test (`secret`, `hash-password`) get their own flags.
  const demo = addRunFlags(program.command('demo').description('run a short test against the embedded demo target (flags override its defaults)'), true);
  demo.action((classes: string[]) => {
    invocation = { command: 'demo', cli: new Map([...cliValues(program, []), ...cliValues(demo, classes)]) };
  });
  // Run by main() before options are parsed (they take no flags); listed here so --help and `help <command>` show them.
  const notHere = (): never => {
    throw new UsageError('this command takes no options or arguments', 'run it alone, e.g. cicada secret');
  };
  program.command('secret').description('print a new random master/worker shared secret (for CICADA_SECRET or --secret-file)').action(notHere);
  program.command('hash-password').description("read a web UI password from stdin and print its scrypt hash for --web-users: echo -n 'secret' | cicada hash-password").action(notHere);

  try {
    program.parse([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return fromCommanderError(error, output);
    throw error;
  }
  if (program.getOptionValue('version') === true) return { command: 'version' };
  if (invocation === undefined) throw new UsageError('no command was run', 'run cicada --help');
  return invocation;
}

/** Parses `raw` into `options[key]` (typed per key through the spec table). */
function assign<K extends keyof CicadaOptions>(options: CicadaOptions, key: K, raw: RawValue, field: string): void {
  const spec: Spec<CicadaOptions[K]> = specs[key];
  options[key] = spec.parse(raw, field);
}

async function loadConfig(cli: Map<keyof CicadaOptions, RawValue>, env: Record<string, string | undefined>, cwd: string): Promise<ConfigFile | undefined> {
  const fromCli = cli.get('config');
  const fromEnv = env[envName('config')];
  const explicit = typeof fromCli === 'string'
    ? { file: text(fromCli, '--config'), from: '--config' }
    : fromEnv !== undefined && fromEnv !== '' ? { file: fromEnv, from: envName('config') } : undefined;
  const file = await findConfigFile(cwd, explicit);
  if (file === undefined) return undefined;
  const config = await readConfigFile(file, cwd);
  if ('config' in config.values) {
    throw new UsageError(`${config.display}: a config file cannot name another config file (key 'config')`, 'remove the key; use --config on the command line');
  }
  // `[scenarios.NAME]` and `[thresholds]` tables are definitions, read by the run (cli/scenarios.ts, cli/thresholds.ts), not options.
  checkConfigKeys(config, [...keys.filter((k) => k !== 'config').map((k) => specs[k].long), 'scenarios', 'thresholds']);
  return config;
}

/** Applies defaults < config file < environment < command line; every layer present is validated, even if overridden. */
async function resolve(cli: Map<keyof CicadaOptions, RawValue>, env: Record<string, string | undefined>, cwd: string): Promise<{ options: CicadaOptions; sources: OptionSources; config: ConfigFile | undefined }> {
  const options = defaultOptions();
  const sources = Object.fromEntries(keys.map((k) => [k, 'default'])) as OptionSources;
  const config = await loadConfig(cli, env, cwd);
  for (const key of keys) {
    const spec = specs[key];
    if (config !== undefined && spec.long in config.values) {
      const field = `${config.display}: key '${spec.long}'`;
      assign(options, key, configValueToRaw(config.values[spec.long], spec.kind, field), field);
      sources[key] = 'config';
    }
    const name = envName(spec.long);
    const fromEnv = env[name];
    // An empty variable counts as unset: `CICADA_USERS=` in an env file should not fail the run.
    if (fromEnv !== undefined && fromEnv !== '') {
      const field = `${name}=${fromEnv}`;
      assign(options, key, spec.kind === 'flag' ? parseBoolean(fromEnv, field) : spec.kind === 'list' ? [fromEnv] : fromEnv, field);
      sources[key] = 'env';
    }
    const fromCli = cli.get(key);
    if (fromCli !== undefined) {
      assign(options, key, fromCli, cliField(spec));
      sources[key] = 'cli';
    }
  }
  // Whoever named it, `config` ends up as the absolute path of the file actually read.
  if (config !== undefined) options.config = config.path;
  return { options, sources, config };
}

/** Rules between options, named with where each value came from. */
function checkCombinations(options: CicadaOptions, sources: OptionSources, config: ConfigFile | undefined): void {
  const named = (key: keyof CicadaOptions): string => {
    const where = sources[key] === 'env' ? ` (from ${envName(specs[key].long)})` : sources[key] === 'config' ? ` (from ${config?.display ?? 'the config file'})` : '';
    return `--${specs[key].long}${where}`;
  };
  if (options.csvFullHistory && options.csv === undefined) {
    throw new UsageError(`${named('csvFullHistory')} needs --csv`, 'add --csv PREFIX (e.g. --csv results), or drop --csv-full-history');
  }
  if (options.autoquit !== undefined && !options.autostart) {
    throw new UsageError(`${named('autoquit')} only works together with --autostart`, 'add --autostart (with --headless Cicada quits by itself when the run ends)');
  }
  if (options.master && options.worker) {
    throw new UsageError(`${named('master')} and ${named('worker')} cannot be used together`, 'start the master and the workers as separate commands, or use --processes');
  }
  if (options.webOidcIssuer !== undefined && options.webOidcClientId === undefined) {
    throw new UsageError(`${named('webOidcIssuer')} needs --web-oidc-client-id`, 'give the client id registered for Cicada at your identity provider');
  }
  if (options.webOidcIssuer !== undefined && options.webOidcRoles.length === 0) {
    throw new UsageError(`${named('webOidcIssuer')} needs --web-oidc-roles`, 'map claim values to roles, e.g. --web-oidc-roles perf-team=operator,perf-admins=admin');
  }
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) {
    const given = options.tlsCert === undefined ? named('tlsKey') : named('tlsCert');
    throw new UsageError(`${given} needs both --tls-cert and --tls-key`, 'give the certificate and its private key');
  }
}

/**
 * Reads the command line `argv` (without node and script), CICADA_* variables from `env` and the config file
 * found from `cwd`, and returns what to do. Throws UsageError (exit 2) with a hint for anything invalid.
 */
export async function parseOptions(argv: string[], env: Record<string, string | undefined>, cwd: string): Promise<ParsedCommand> {
  const read = readCommandLine(argv);
  if (!('cli' in read)) return read;
  const { options, sources, config } = await resolve(read.cli, env, cwd);
  checkCombinations(options, sources, config);
  return { command: read.command, options, sources };
}
