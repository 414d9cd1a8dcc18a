// The HTML report's building blocks (cells, tables, sections): every piece of text passes through escapeHtml here.
import { escapeHtml } from './escape-html.ts';

export interface Cell {
  text: string;
  /** Text cells are left-aligned and wrap; `kind` cells (the request type) are left-aligned and never wrap; numbers right-aligned. */
  kind?: 'text' | 'kind' | 'num';
  bad?: boolean;
  /** Already-escaped HTML (used for <pre>), never raw user input. */
  html?: boolean;
}

export interface Row {
  cells: Cell[];
  /** An Aggregated-style row, in bold. */
  total?: boolean;
  /** A row that failed as a whole (a broken threshold), marked by class so the CSS, not script, styles it. */
  failed?: boolean;
}

export const text = (t: string): Cell => ({ text: t, kind: 'text' });
/** The Type column: `POST` must not wrap to `POS/T` (regression seen at 1400 and 1920 px). */
export const kind = (t: string): Cell => ({ text: t, kind: 'kind' });
export const num = (t: string | number, bad = false): Cell => ({ text: String(t), kind: 'num', bad });

function td(c: Cell): string {
  const classes = [c.kind === 'text' || c.kind === 'kind' ? c.kind : '', c.bad === true ? 'bad' : ''].filter((x) => x !== '').join(' ');
  return `<td${classes ? ` class="${classes}"` : ''}>${c.html === true ? c.text : escapeHtml(c.text)}</td>`;
}

function tr(r: Row): string {
  const classes = [r.total === true ? 'total' : '', r.failed === true ? 'failed' : ''].filter((x) => x !== '').join(' ');
  return `<tr${classes ? ` class="${classes}"` : ''}>${r.cells.map(td).join('')}</tr>`;
}

export function table(headers: readonly (string | Cell)[], rows: readonly Row[]): string {
  const head = headers
    .map((h) => (typeof h === 'string' ? `<th>${escapeHtml(h)}</th>` : `<th class="${h.kind ?? 'text'}">${escapeHtml(h.text)}</th>`))
    .join('');
  const body = rows.map(tr).join('\n');
  return `<div class="scroll"><table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

export function section(title: string, body: string): string {
  return `<section><h2>${escapeHtml(title)}</h2>\n${body}\n</section>`;
}

export const none = (what: string): string => `<p class="none">${escapeHtml(what)}</p>`;
