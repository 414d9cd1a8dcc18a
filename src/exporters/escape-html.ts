// HTML escaping for the HTML report: every user-controlled string passes through here before output.

const replacements: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes & < > " ' so the text is safe in element content and in quoted attributes (HTML and SVG). */
export function escapeHtml(text: string | number): string {
  return String(text).replace(/[&<>"']/g, (ch) => replacements[ch] ?? ch);
}
