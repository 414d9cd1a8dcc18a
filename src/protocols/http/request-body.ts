// Request bodies: what a cicadafile may pass as `body`, `json` or `form`, turned into bytes and a content-type (as fetch does).

/** What `body` accepts. */
export type RequestBody = string | Buffer | Uint8Array | ArrayBuffer | URLSearchParams | FormData | Blob;

/** Values of the `form` option (Locust's `data=` dict): arrays repeat the key. */
export type FormFields = Record<string, string | number | boolean | readonly (string | number | boolean)[] | undefined>;

/** A body ready for the wire: bytes (or text) and the content-type it implies, if any. */
export interface EncodedBody {
  body: string | Buffer | Uint8Array;
  /** The content-type the body calls for, used only when the request sets none. */
  contentType: string | undefined;
}

const FORM_TYPE = 'application/x-www-form-urlencoded;charset=UTF-8';
const TEXT_TYPE = 'text/plain;charset=UTF-8';
const ACCEPTED = 'a string, Buffer, Uint8Array, ArrayBuffer, URLSearchParams, FormData or Blob (or use the json or form option)';

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return `a ${typeof value}`;
  const name = value.constructor?.name;
  return name === undefined || name === 'Object' ? 'a plain object' : `a ${name}`;
}

/**
 * Encodes the bodies that need no waiting; returns a Promise for FormData and Blob (their bytes are
 * read asynchronously). Throws a TypeError, before anything is sent or recorded, for a body Cicada
 * cannot send — so the mistake shows as an exception at the cicadafile's line, not as a failed request.
 */
export function encodeBody(body: unknown, form: FormFields | undefined): EncodedBody | Promise<EncodedBody> | undefined {
  if (form !== undefined) {
    if (body !== undefined) throw new TypeError('give either body or form, not both');
    if (typeof form !== 'object' || form === null || Array.isArray(form)) throw new TypeError(`form must be an object of field names to values, got ${describe(form)}`);
    return { body: formText(form), contentType: FORM_TYPE };
  }
  if (body === undefined) return undefined;
  if (typeof body === 'string') return { body, contentType: TEXT_TYPE };
  if (body instanceof Uint8Array) return { body, contentType: undefined };
  if (body instanceof ArrayBuffer) return { body: Buffer.from(body), contentType: undefined };
  if (body instanceof URLSearchParams) return { body: body.toString(), contentType: FORM_TYPE };
  if (body instanceof FormData) return multipart(body);
  if (body instanceof Blob) return blobBody(body);
  throw new TypeError(`cannot send ${describe(body)} as a request body: give ${ACCEPTED}`);
}

function formText(form: FormFields): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(form)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value as readonly unknown[]) params.append(key, String(item));
    else params.append(key, String(value));
  }
  return params.toString();
}

async function multipart(form: FormData): Promise<EncodedBody> {
  // The platform's own encoder: the boundary and every part (files too) as fetch would send them.
  const response = new Response(form);
  return { body: Buffer.from(await response.arrayBuffer()), contentType: response.headers.get('content-type') ?? undefined };
}

async function blobBody(blob: Blob): Promise<EncodedBody> {
  return { body: Buffer.from(await blob.arrayBuffer()), contentType: blob.type === '' ? undefined : blob.type };
}
