// The JSON shapes of docs/web-api.md. Everything here comes from the server and is
// rendered as text only.

export type Role = 'viewer' | 'operator' | 'admin';
export type AuthMode = 'none' | 'users' | 'oidc' | string;
export type RunState = 'ready' | 'spawning' | 'running' | 'stopping' | 'stopped' | string;

export interface Session {
  user: string;
  role: Role;
  csrfToken: string;
  authMode: AuthMode;
}

/** The body of a 401 from GET /session. */
export interface LoginOptions {
  password: boolean;
  oidc: boolean;
}

/** A scenario the cicadafile or config declares (the start form offers them). */
export interface ScenarioInfo {
  name: string;
  executor: string;
  description: string;
}

export interface Config {
  user_classes: string[];
  shape_class: string | null;
  host: string | null;
  users: number | null;
  spawn_rate: number | null;
  run_time: string | number | null;
  distributed: boolean;
  version: string;
  percentiles: number[];
  /** Declared scenarios; empty (or absent, from an older server) when none. */
  scenarios?: ScenarioInfo[];
}

export interface StatsEntry {
  method: string | null;
  name: string;
  num_requests: number;
  num_failures: number;
  min_response_time: number | null;
  max_response_time: number | null;
  current_rps: number;
  current_fail_per_sec: number;
  avg_response_time: number | null;
  median_response_time: number | null;
  total_rps: number;
  total_fail_per_sec: number;
  'response_time_percentile_0.95': number | null;
  'response_time_percentile_0.99': number | null;
  avg_content_length: number | null;
  fail_ratio: number;
  response_time_percentiles?: Record<string, number | null>;
}

export interface ErrorEntry {
  method: string | null;
  name: string;
  error: string;
  occurrences: number;
  first_seen?: number;
  last_seen?: number;
}

export interface WorkerInfo {
  id: string;
  state: string;
  user_count: number;
  cpu_usage: number;
  memory_usage: number;
  missing?: boolean;
}

/** One scenario's iterations in /stats/requests (arrival-rate and iteration-count executors). */
export interface ScenarioStats {
  name: string;
  executor: string | null;
  iterations: number;
  failed_iterations: number;
  dropped_iterations: number;
  interrupted_iterations: number;
  /** Iterations an iteration count did not run: its maxDuration ended it first. */
  not_run_iterations: number;
  /** ms from each iteration's scheduled start; keys as in response_time_percentiles. */
  iteration_duration_percentiles: Record<string, number | null>;
  start_lateness_p99: number | null;
}

export interface StatsSnapshot {
  stats: StatsEntry[];
  errors: ErrorEntry[];
  total_rps: number;
  total_fail_per_sec: number;
  fail_ratio: number;
  current_rps: number;
  current_fail_per_sec: number;
  current_response_time_percentiles?: Record<string, number | null>;
  state: RunState;
  user_count: number;
  target_user_count?: number | null;
  user_classes?: Record<string, number>;
  exceptions_count?: number;
  host?: string | null;
  start_time?: number | null;
  time?: number;
  workers?: WorkerInfo[];
  worker_count?: number;
  scenarios?: ScenarioStats[];
  dropped_iterations?: number;
  /** Iterations started per second lately; null when not known. */
  current_arrival_rate?: number | null;
}

export interface HistoryPoint {
  time: number;
  user_count: number;
  current_rps: number;
  current_fail_per_sec: number;
  response_time_percentiles: Record<string, number | null>;
  total_requests?: number;
  total_failures?: number;
}

/** One threshold as evaluated now (GET /stats/thresholds, and each /stream event). */
export interface Threshold {
  /** As written, tags included: `response_time{name:/login}`. */
  metric: string;
  /** As written: `p(95)<300`. */
  expression: string;
  ok: boolean;
  /** In `unit`; null while there is no data (the threshold then passes). */
  observed: number | null;
  unit: 'ms' | '/s' | 'ratio' | 'count' | string;
  /** The metric's tag filter: `name`, `method`, `scenario`, `check`. */
  tags: Record<string, string>;
  abort_on_fail: boolean;
}

/** One check per request name (GET /stats/checks, and each /stream event). */
export interface Check {
  name: string;
  /** The request name of the checked value, or ''. */
  request: string;
  passes: number;
  fails: number;
  /** 0..1; null before the check ran. */
  pass_ratio: number | null;
  last_error?: string;
}

/** The thresholds and checks of the latest /stream event. */
export interface Gates {
  thresholds: Threshold[];
  failed: number;
  checks: Check[];
}

/** One `stats` event of /stream. */
export interface StreamEvent extends StatsSnapshot {
  history?: HistoryPoint[];
  /** Set by the server on the first event and after a new run/reset: `history` is complete. */
  history_reset?: boolean;
  /** Absent from an older server: then there are none to show. */
  thresholds?: Threshold[];
  thresholds_failed?: number;
  checks?: Check[];
}

export interface ExceptionEntry {
  count: number;
  msg: string;
  traceback: string;
  nodes: string | string[];
}

/** One node of GET /tasks: a user class, a task, or a TaskSet (with its own tasks). */
export interface TaskRatioNode {
  /** Share of the parent, 0..1. */
  ratio: number;
  tasks?: Record<string, TaskRatioNode>;
}

export interface TaskRatios {
  /** Each class (ratio 1) with its tasks' shares within the class. */
  per_class: Record<string, TaskRatioNode>;
  /** Each class's share of the users, with its tasks' shares of the whole run. */
  total: Record<string, TaskRatioNode>;
}
