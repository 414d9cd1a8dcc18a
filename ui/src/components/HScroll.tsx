import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

/**
 * Sets `data-more` on `outer` to "left", "right" or "left right" while `scroller` has content hidden
 * on that side, so that CSS can shade that edge: the sign that a table or the tab strip scrolls
 * sideways, which a phone's overlay scrollbar doesn't give. An attribute Preact doesn't manage (a
 * class would be reset on re-render), and nothing inline, so the CSP is happy.
 */
export function useScrollEdges(
  outer: { current: HTMLElement | null },
  scroller: { current: HTMLElement | null },
): void {
  const recheck = useRef<() => void>(() => undefined);
  // After every render: the content may have changed width (rows, columns shown, a tab added).
  useEffect(() => recheck.current());
  useEffect(() => {
    const box = outer.current;
    const el = scroller.current;
    if (!box || !el) return;
    let frame = 0;
    const update = () => {
      frame = 0;
      const max = el.scrollWidth - el.clientWidth;
      // 1 px of slack: zoomed pages report fractional widths.
      const more = [max > 1 && el.scrollLeft > 1 ? 'left' : '', max > 1 && el.scrollLeft < max - 1 ? 'right' : '']
        .filter(Boolean)
        .join(' ');
      if (box.dataset.more !== more) box.dataset.more = more;
    };
    const schedule = () => {
      if (frame === 0) frame = requestAnimationFrame(update);
    };
    recheck.current = schedule;
    update();
    el.addEventListener('scroll', schedule, { passive: true });
    const ro = new ResizeObserver(schedule);
    ro.observe(el);
    // Text that changes between renders of another component (live numbers) changes widths too.
    const mo = new MutationObserver(schedule);
    mo.observe(el, { childList: true, subtree: true, characterData: true });
    return () => {
      el.removeEventListener('scroll', schedule);
      ro.disconnect();
      mo.disconnect();
      if (frame !== 0) cancelAnimationFrame(frame);
      recheck.current = () => undefined;
    };
  }, [outer, scroller]);
}

interface Props {
  children: ComponentChildren;
  /** Extra classes on the outer box (e.g. the stats table's column mode). */
  class?: string;
  label?: string;
}

/** A horizontally scrollable box (tables) that shows when there is more to either side. */
export function HScroll({ children, class: extra, label }: Props): JSX.Element {
  const outer = useRef<HTMLDivElement>(null);
  const inner = useRef<HTMLDivElement>(null);
  useScrollEdges(outer, inner);
  return (
    <div class={`table-wrap hscroll${extra ? ` ${extra}` : ''}`} ref={outer}>
      {/* Focusable so that a keyboard can scroll it too. */}
      <div class="table-scroll" ref={inner} tabIndex={0} role="region" aria-label={label ?? 'Table (scrolls sideways)'}>
        {children}
      </div>
    </div>
  );
}
