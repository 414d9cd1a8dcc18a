// The dashboard of a session: header and run controls, the start/edit forms, the Thresholds panel, and the tabs.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError, getConfig, resetStats, stop } from '../api';
import { useLiveStats } from '../live';
import { loadSpawnRate, loadStartValues, saveSpawnRate, saveStartValues, type StartValues } from '../prefs';
import { NO_FILTER, type StatsFilter } from '../stats-filter';
import type { Config, Session, Threshold } from '../types';
import { Charts } from './Charts';
import { Checks } from './Checks';
import { Downloads } from './Downloads';
import { EditForm } from './EditForm';
import { Exceptions } from './Exceptions';
import { FailuresTable } from './FailuresTable';
import { Header } from './Header';
import { RunControls } from './RunControls';
import { Scenarios } from './Scenarios';
import { StartForm } from './StartForm';
import { StatsTable, type Sort } from './StatsTable';
import { Tabs, type TabSpec } from './Tabs';
import { Tasks } from './Tasks';
import { rowsOf, Thresholds } from './Thresholds';
import { Workers } from './Workers';

interface Props {
  session: Session;
  onLogout(): void;
}

const canOperate = (s: Session) => s.role === 'operator' || s.role === 'admin';

export function Dashboard({ session, onLogout }: Props) {
  const [config, setConfig] = useState<Config | null>(null);
  const [configError, setConfigError] = useState('');
  const [tab, setTab] = useState('stats');
  const [sort, setSort] = useState<Sort | null>(null);
  const [filter, setFilter] = useState<StatsFilter>(NO_FILTER);
  const [editing, setEditing] = useState(false);
  const [newTest, setNewTest] = useState(false);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState('');
  // The spawn rate last sent, to prefill the edit form (the stats don't carry it), and the start
  // form's last values: both kept in localStorage too, so that a reload keeps them. When a form
  // opens, storage comes first: another tab of this browser may have sent newer values.
  const [spawnRate, setSpawnRate] = useState<number | null>(loadSpawnRate);
  const [editRate, setEditRate] = useState<number | null>(null);
  const [lastStart, setLastStart] = useState<StartValues | null>(loadStartValues);

  const live = useLiveStats(true);
  const state = live.stats?.state;
  const { thresholds, failed, checks } = live.gates;

  const loadConfig = useCallback(() => {
    getConfig()
      .then((c) => {
        setConfig(c);
        setConfigError('');
      })
      .catch((e: unknown) => setConfigError(e instanceof Error ? e.message : 'Could not load /config.'));
  }, []);
  // Again after the live stream came back: the server may be a restarted process, with other defaults.
  useEffect(loadConfig, [loadConfig, live.reconnects]);

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
      // A lost session was re-checked (and the call retried once) in api.ts; when it still fails
      // that way the login form takes over. A role 403 and others are shown here.
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
    { id: 'tasks', label: 'Tasks' },
  ];
  if (checks.length > 0) {
    const failing = checks.filter((c) => c.fails > 0).length;
    tabs.splice(1, 0, { id: 'checks', label: 'Checks', badge: failing || undefined });
  }
  const declared = config?.scenarios ?? [];
  const iterationScenarios = live.stats?.scenarios ?? [];
  if (declared.length > 0 || iterationScenarios.length > 0) {
    tabs.splice(1, 0, { id: 'scenarios', label: 'Scenarios', badge: iterationScenarios.length || undefined });
  }
  if (config?.distributed) tabs.push({ id: 'workers', label: 'Workers', badge: live.stats?.worker_count });
  if (session.role === 'admin') tabs.push({ id: 'downloads', label: 'Downloads' });
  const activeTab = tabs.some((t) => t.id === tab) ? tab : 'stats';
  // Names rows carry as `name [scenario]` when several scenarios run (the filter needs to tell them).
  const scenarioNames = [...new Set([...declared.map((d) => d.name), ...iterationScenarios.map((s) => s.name)])];

  // A failed threshold's link: its statistics rows (the table filtered to its tags), or the Checks tab.
  const showRows = (t: Threshold) => {
    if (rowsOf(t) === 'checks' && checks.length > 0) {
      setTab('checks');
      return;
    }
    setFilter({ text: '', threshold: { metric: t.metric, expression: t.expression, tags: t.tags } });
    setTab('stats');
    // The table is below the panel, maybe off a small screen: bring the filter (and the rows under it) into view.
    requestAnimationFrame(() => document.getElementById('stats-filter')?.scrollIntoView({ block: 'nearest' }));
  };

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
          // An arrival-rate or iteration run has no user count to change (the server refuses one).
          canEdit={iterationScenarios.length === 0}
          starting={showStart}
          busy={busy}
          onEdit={() => {
            setEditRate(loadSpawnRate() ?? spawnRate ?? config?.spawn_rate ?? null);
            setEditing(true);
          }}
          onStop={() => void act(stop)}
          onReset={() => void act(resetStats)}
          onNewTest={() => setNewTest(true)}
        />
      </Header>

      <main class="content">
        {live.lost && (
          <p class="banner warn" role="status" data-testid="connection-lost">
            <span class="spinner" aria-hidden="true" />
            <span class="banner-text">
              Connection lost — reconnecting…{' '}
              <span class="muted">The numbers shown are the last ones received.</span>
            </span>
          </p>
        )}
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
            initial={loadStartValues() ?? lastStart}
            onStarted={(values) => {
              setLastStart(values);
              saveStartValues(values);
              const rate = Number(values.rate);
              if ((values.mode ?? 'users') === 'users' && values.rate.trim() !== '' && rate > 0) {
                setSpawnRate(rate);
                saveSpawnRate(rate);
              }
              setNewTest(false);
              void live.refresh();
            }}
            onCancel={state === 'stopped' ? () => setNewTest(false) : undefined}
          />
        )}
        {operator && editing && (state === 'spawning' || state === 'running') && (
          <EditForm
            users={live.stats?.target_user_count ?? live.stats?.user_count ?? null}
            spawnRate={editRate}
            onDone={(r) => {
              setSpawnRate(r);
              saveSpawnRate(r);
              setEditing(false);
              void live.refresh();
            }}
            onCancel={() => setEditing(false)}
          />
        )}
        {!operator && state === 'ready' && (
          <p class="banner info">No test is running. An operator can start one.</p>
        )}

        {thresholds.length > 0 && <Thresholds thresholds={thresholds} failed={failed} onShowRows={showRows} />}

        <Tabs tabs={tabs} active={activeTab} onSelect={setTab} />
        <section class="tab-panel" id="tab-panel" role="tabpanel" aria-labelledby={`tab-${activeTab}`}>
          {activeTab === 'stats' && (
            <StatsTable
              stats={live.stats?.stats ?? []}
              sort={sort}
              onSort={setSort}
              filter={filter}
              onFilter={setFilter}
              scenarios={scenarioNames}
            />
          )}
          {activeTab === 'checks' && <Checks checks={checks} />}
          {activeTab === 'scenarios' && <Scenarios scenarios={iterationScenarios} declared={declared} />}
          {activeTab === 'charts' && <Charts history={live.history} />}
          {activeTab === 'failures' && <FailuresTable errors={live.stats?.errors ?? []} />}
          {activeTab === 'exceptions' && <Exceptions count={live.stats?.exceptions_count} />}
          {activeTab === 'tasks' && <Tasks key={live.reconnects} />}
          {activeTab === 'workers' && <Workers workers={live.stats?.workers ?? []} count={live.stats?.worker_count} />}
          {activeTab === 'downloads' && <Downloads />}
        </section>
      </main>

      <footer class="footer muted">{config ? `Cicada ${config.version}` : 'Cicada'}</footer>
    </div>
  );
}
