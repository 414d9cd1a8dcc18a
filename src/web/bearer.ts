// Bearer tokens for machine clients (Prometheus scraping /metrics): the header's token (compared with core's sameSecret).

/** The token of an `Authorization: Bearer …` header, or undefined when the header is absent or another scheme. */
export function bearerOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return m?.[1];
}
