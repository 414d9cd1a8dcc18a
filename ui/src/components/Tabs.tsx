import { useRef } from 'preact/hooks';
import { useScrollEdges } from './HScroll';

export interface TabSpec {
  id: string;
  label: string;
  /** A count shown as a badge (failures, exceptions), hidden when 0. */
  badge?: number | undefined;
}

interface Props {
  tabs: TabSpec[];
  active: string;
  onSelect(id: string): void;
}

export function Tabs({ tabs, active, onSelect }: Props) {
  const outer = useRef<HTMLDivElement>(null);
  const strip = useRef<HTMLElement>(null);
  useScrollEdges(outer, strip);
  return (
    // On a narrow screen the strip scrolls sideways; the wrapper shades the edge that has more tabs.
    <div class="tabs-wrap hscroll" ref={outer}>
      <nav class="tabs" role="tablist" aria-label="Views" ref={strip}>
        {tabs.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            id={`tab-${t.id}`}
            aria-selected={t.id === active}
            aria-controls="tab-panel"
            class={t.id === active ? 'tab active' : 'tab'}
            data-testid={`tab-${t.id}`}
            onClick={(e) => {
              // A tab half under the edge of a narrow strip comes fully into view.
              e.currentTarget.scrollIntoView({ block: 'nearest', inline: 'nearest' });
              onSelect(t.id);
            }}
          >
            {t.label}
            {t.badge ? <span class="badge">{t.badge > 999 ? '999+' : t.badge}</span> : null}
          </button>
        ))}
      </nav>
    </div>
  );
}
