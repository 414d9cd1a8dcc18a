import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError, getConfig, resetStats, stop, type SessionResult } from '../api';
import { useLiveStats } from '../live';
import type { Config, Session } from '../types';
import { Charts } from './Charts';
import { Downloads } from './Downloads';
import { EditForm } from './EditForm';
import { Exceptions } from './Exceptions';
import { FailuresTable } from './FailuresTable';
import { Header } from './Header';
import { RunControls } from './RunControls';
import { StartForm, type StartValues } from './StartForm';
import { StatsTable, type Sort } from './StatsTable';
import { Tabs, type TabSpec } from './Tabs';
import { Workers } from './Workers';

interface Props {
  session: Session;
  onSessionCheck(result: SessionResult): void;
  onLogout(): void;
}

const canOperate = (s: Session) => s.role === 'operator' || s.role === 'admin';

export function Dashboard({ session, onSessionCheck, onLogout }: Props) {
  const [config, setConfig] = useState<Config | null>(null);
  const [configError, setConfigError] = useState('');
  const [tab, setTab] = useState('stats');
  const [sort, setSort] = useState<Sort | null>(null);
  const [editing, setEditing] = useState(false);
  const [newTest, setNewTest] = useState(false);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState('');
  // The spawn rate last asked for, to prefill the edit form (the stats don't carry it).
  const [spawnRate, setSpawnRate] = useState<number | null>(null);
  const [lastStart, setLastStart] = useState<StartValues | null>(null);

  const live = useLiveStats(true, onSessionCheck);
  const state = live.stats?.state;

  const loadConfig = useCallback(() => {
    getConfig()
      .then((c) => {
        setConfig(c);
        setConfigError('');
      })
      .catch((e: unknown) => setConfigError(e instanceof Error ? e.message : 'Could not load /config.'));
  }, []);
  useEffect(loadConfig, [loadConfig]);

  // Once a new run is going, "New test" applies to the next stop again; an edit form for a
  // run that has ended is meaningless.
  useEffect(() => {
    if (state === 'spawning' || state === 'running') setNewTest(false);
    else setEditing(false);
  }, [state]);

  const act = async (what: () => Promise<unknown>) => {
    setBusy(true);
    setActionError('');
    try {
      await what();
      await live.refresh();
    } catch (e) {
      // 401 is handled globally (login screen); 403 and others are shown here.
      if (!(e instanceof ApiError && e.status === 401)) setActionError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  const operator = canOperate(session);
  const showStart = operator && config !== null && (state === 'ready' || (state === 'stopped' && newTest));

  const tabs: TabSpec[] = [
    { id: 'stats', label: 'Statistics' },
    { id: 'charts', label: 'Charts' },
    { id: 'failures', label: 'Failures', badge: live.stats?.errors?.length },
    { id: 'exceptions', label: 'Exceptions', badge: live.stats?.exceptions_count },
  ];
  if (config?.distributed) tabs.push({ id: 'workers', label: 'Workers', badge: live.stats?.worker_count });
  if (session.role === 'admin') tabs.push({ id: 'downloads', label: 'Downloads' });
  const activeTab = tabs.some((t) => t.id === tab) ? tab : 'stats';

  return (
    <div class="app">
      <Header
        session={session}
        stats={live.stats}
        configHost={config?.host ?? null}
        connected={live.connected}
        onLogout={onLogout}
      >
        <RunControls
          role={session.role}
          state={state}
          editing={editing}
          starting={showStart}
          busy={busy}
          onEdit={() => setEditing(true)}
          onStop={() => void act(stop)}
          onReset={() => void act(resetStats)}
          onNewTest={() => setNewTest(true)}
        />
      </Header>

      <main class="content">
        {actionError && (
          <p class="banner error" role="alert" data-testid="action-error">
            {actionError}
            <button type="button" class="btn ghost small" onClick={() => setActionError('')} aria-label="Dismiss">
              ×
            </button>
          </p>
        )}
        {configError && (
          <p class="banner error" role="alert">
            {configError}{' '}
            <button type="button" class="btn ghost small" onClick={loadConfig}>
              Retry
            </button>
          </p>
        )}

        {showStart && config && (
          <StartForm
            config={config}
            initial={lastStart}
            onStarted={(values) => {
              setLastStart(values);
              const rate = Number(values.rate);
              if (values.rate.trim() !== '' && rate > 0) setSpawnRate(rate);
              setNewTest(false);
              void live.refresh();
            }}
            onCancel={state === 'stopped' ? () => setNewTest(false) : undefined}
          />
        )}
        {operator && editing && (state === 'spawning' || state === 'running') && (
          <EditForm
            users={live.stats?.target_user_count ?? live.stats?.user_count ?? null}
            spawnRate={spawnRate ?? config?.spawn_rate ?? 1}
            onDone={(r) => {
              setSpawnRate(r);
              setEditing(false);
              void live.refresh();
            }}
            onCancel={() => setEditing(false)}
          />
        )}
        {!operator && state === 'ready' && (
          <p class="banner info">No test is running. An operator can start one.</p>
        )}

        <Tabs tabs={tabs} active={activeTab} onSelect={setTab} />
        <section class="tab-panel" id="tab-panel" role="tabpanel" aria-labelledby={`tab-${activeTab}`}>
          {activeTab === 'stats' && <StatsTable stats={live.stats?.stats ?? []} sort={sort} onSort={setSort} />}
          {activeTab === 'charts' && <Charts history={live.history} />}
          {activeTab === 'failures' && <FailuresTable errors={live.stats?.errors ?? []} />}
          {activeTab === 'exceptions' && <Exceptions count={live.stats?.exceptions_count} />}
          {activeTab === 'workers' && <Workers workers={live.stats?.workers ?? []} count={live.stats?.worker_count} />}
          {activeTab === 'downloads' && <Downloads />}
        </section>
      </main>

      <footer class="footer muted">{config ? `Cicada ${config.version}` : 'Cicada'}</footer>
    </div>
  );
}
