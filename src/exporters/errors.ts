// Errors of the exporters layer: each carries a stable code, a fix-it hint and the exit code it maps to.
import { CicadaError, ExitCode } from '../core/errors.ts';

/** A report file or folder that cannot be written (a configuration problem: exit 2). */
export class ReportWriteError extends CicadaError {
  readonly path: string;
  constructor(path: string, what: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const hint = 'choose a writable location (e.g. `--csv results/run` or `--html report.html`) or fix the folder permissions';
    super('CICADA_ERR_REPORT_WRITE', `cannot write ${what} at "${path}": ${reason}`, {
      hint,
      exitCode: ExitCode.usage,
      cause,
    });
    this.name = 'ReportWriteError';
    this.path = path;
  }
}

/** Every error code defined in this layer; a test keeps them unique across layers. */
export const exporterErrorCodes = ['CICADA_ERR_REPORT_WRITE'] as const;
