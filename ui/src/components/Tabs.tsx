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
  return (
    <nav class="tabs" role="tablist" aria-label="Views">
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
          onClick={() => onSelect(t.id)}
        >
          {t.label}
          {t.badge ? <span class="badge">{t.badge > 999 ? '999+' : t.badge}</span> : null}
        </button>
      ))}
    </nav>
  );
}
