import type { ComponentChildren } from 'preact';

/** A table's only row when it has nothing to show: one cell across all the columns. */
export function EmptyRow({ colSpan, children }: { colSpan: number; children: ComponentChildren }) {
  return (
    <tr>
      <td class="empty" colSpan={colSpan}>
        {children}
      </td>
    </tr>
  );
}
