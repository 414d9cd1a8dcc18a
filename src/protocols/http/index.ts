// The HTTP protocol's public pieces, re-exported for src/index.ts and the CLI.
export { HttpUser } from './http-user.ts';
export { HttpClient } from './http-client.ts';
export type { HttpClientOptions, HttpRequestOptions, RequestHeaders } from './http-client.ts';
export { HttpResponse } from './response.ts';
export type { HttpHeaders } from './response.ts';
export { HttpRequestError } from './normalise-error.ts';
export { CookieJar } from './cookie-jar.ts';
export type { Cookie, CookieTarget } from './cookie-jar.ts';
export type { Query, QueryValue } from './request-target.ts';
