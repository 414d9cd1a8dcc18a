// Errors of the statistics layer: malformed histogram or snapshot data (a bug or a corrupt report).
import { CicadaError, ExitCode } from '../core/errors.ts';

/** Raised when histogram or snapshot data cannot be applied; `code` is one of `statsErrorCodes`. */
export class StatsError extends CicadaError {
  constructor(code: StatsErrorCode, message: string) {
    super(code, message, { exitCode: ExitCode.internal });
    this.name = 'StatsError';
  }
}

/** Every error code defined in this layer; a test keeps them unique across layers. */
export const statsErrorCodes = [
  'CICADA_ERR_STATS_BAD_HISTOGRAM',
  'CICADA_ERR_STATS_NEGATIVE_COUNT',
] as const;

export type StatsErrorCode = (typeof statsErrorCodes)[number];
