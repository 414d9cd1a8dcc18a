// What every metrics exporter's output is built from (cli/export-*.ts): the options, the log, and the facts a report lacks.
import type { Timers } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { CicadaOptions } from './options.ts';

export interface ExportSettings {
  options: CicadaOptions;
  logger: Logger;
  /** Workers connected now (0 in a local run): the `cicada_workers` gauge. */
  workers: () => number;
  /** Injected by tests; the system's timers otherwise. */
  timers?: Timers;
}
