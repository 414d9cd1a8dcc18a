// Errors of the core layer: each carries a stable code, a fix-it hint and the exit code it maps to.

/** Exit codes of the `cicada` command (DESIGN.md §1). */
export const ExitCode = {
  ok: 0,
  failures: 1,
  usage: 2,
  internal: 3,
  threshold: 99,
} as const;

/** A user-facing error: `code` is stable, `hint` says how to fix it, `exitCode` is what the CLI returns. */
export class CicadaError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly exitCode: number;
  constructor(code: string, message: string, options: { hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CicadaError';
    this.code = code;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? ExitCode.usage;
  }
}

/** A bad flag, environment variable or config value (exit 2). */
export class UsageError extends CicadaError {
  constructor(message: string, hint?: string) {
    super('CICADA_ERR_USAGE', message, { hint, exitCode: ExitCode.usage });
    this.name = 'UsageError';
  }
}

/** A cicadafile that cannot be loaded or is not valid (exit 2). */
export class CicadafileError extends CicadaError {
  constructor(message: string, hint?: string, cause?: unknown) {
    super('CICADA_ERR_CICADAFILE', message, { hint, exitCode: ExitCode.usage, cause });
    this.name = 'CicadafileError';
  }
}

/** A user class or task definition that breaks the scripting API's rules (exit 2). */
export class DefinitionError extends CicadaError {
  constructor(message: string, hint?: string) {
    super('CICADA_ERR_DEFINITION', message, { hint, exitCode: ExitCode.usage });
    this.name = 'DefinitionError';
  }
}

/** A runner asked to do something its current state does not allow (a bug, exit 3). */
export class IllegalStateError extends CicadaError {
  constructor(message: string) {
    super('CICADA_ERR_ILLEGAL_STATE', message, { exitCode: ExitCode.internal });
    this.name = 'IllegalStateError';
  }
}

/** Every error code defined in this layer; a test keeps them unique across layers. */
export const coreErrorCodes = [
  'CICADA_ERR_USAGE',
  'CICADA_ERR_CICADAFILE',
  'CICADA_ERR_DEFINITION',
  'CICADA_ERR_ILLEGAL_STATE',
] as const;
