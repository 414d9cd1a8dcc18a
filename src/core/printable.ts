// One way to make text from a peer, a provider or a user safe for one log or terminal line.

/** C0 and C1 controls (newline, ESC of ANSI sequences, DEL) and the bidi overrides that reorder what a reader sees. */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g;

/**
 * `text` on one line with nothing a terminal would act on: control characters, ANSI escapes and bidi
 * overrides become a space, and the result is cut at `max` characters (with an ellipsis). A forged log
 * line (`name\n[…] INFO all good`) or a colour escape from a peer's string can then not reach the log.
 * @example
 * ```ts
 * logger.warning(`worker ${printable(id, 64)} sent an unknown message`);
 * ```
 */
export function printable(text: string, max = 300): string {
  const clean = text.replace(UNPRINTABLE, ' ').trim();
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}
