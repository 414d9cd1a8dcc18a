// An error the web layer answers with its own status and a message safe to show (and, for 400, the field).

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (field: string, message: string): HttpError => new HttpError(400, `${field}: ${message}`, field);
