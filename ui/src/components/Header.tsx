import type { ComponentChildren } from 'preact';
import { formatCount, formatPercent, formatRps } from '../format';
import type { Session, StatsSnapshot } from '../types';

interface Props {
  session: Session;
  stats: StatsSnapshot | null;
  /** Fallback before the first event, from /config. */
  configHost: string | null;
  connected: boolean;
  onLogout(): void;
  /** Run controls (start/edit/stop…), rendered on the right. */
  children?: ComponentChildren;
}

function Metric({
  label,
  testid,
  value,
  title,
  fixed = false,
}: {
  label: string;
  testid: string;
  value: string;
  title?: string;
  /** A number: give it a minimum width so that growing values don't shift the header. */
  fixed?: boolean;
}) {
  return (
    <div class={fixed ? 'metric fixed' : 'metric'}>
      <span class="metric-label">{label}</span>
      <span class="metric-value" data-testid={testid} title={title}>
        {value}
      </span>
    </div>
  );
}

export function Header({ session, stats, configHost, connected, onLogout, children }: Props) {
  const state = stats?.state ?? 'connecting';
  const host = stats?.host ?? configHost ?? '';
  const target = stats?.target_user_count;
  const users = stats
    ? target !== null && target !== undefined
      ? `${formatCount(stats.user_count)} / ${formatCount(target)}`
      : formatCount(stats.user_count)
    : '–';
  const quietUser = session.authMode === 'none';
  // Shown while an arrival-rate or iteration-count scenario has counted iterations.
  const iterations = (stats?.scenarios?.length ?? 0) > 0;

  return (
    <header class="topbar">
      <div class="brand-block">
        <span class="brand">Cicada</span>
        {/* The class is a fixed set (state-<known value>), the text is the server's. */}
        <span
          class={`state state-${/^[a-z]+$/.test(state) ? state : 'unknown'}${connected ? '' : ' offline'}`}
          data-testid="header-state"
          title={connected ? undefined : 'Live updates are reconnecting…'}
        >
          {state}
        </span>
      </div>

      <div class="metrics">
        <Metric label="Host" testid="header-host" value={host || '–'} title={host} />
        <Metric label="Users" testid="header-users" value={users} fixed />
        <Metric label="RPS" testid="header-rps" value={stats ? formatRps(stats.current_rps) : '–'} fixed />
        <Metric label="Failures" testid="header-fail-ratio" value={stats ? formatPercent(stats.fail_ratio) : '–'} fixed />
        {iterations && (
          <Metric
            label="Arrivals/s"
            testid="header-arrival-rate"
            value={formatRps(stats?.current_arrival_rate)}
            title="Iterations started per second lately (run plus dropped)"
            fixed
          />
        )}
        {iterations && (
          <Metric
            label="Dropped"
            testid="header-dropped"
            value={formatCount(stats?.dropped_iterations)}
            title="Iterations not started: every user was busy and the pool was full"
            fixed
          />
        )}
      </div>

      <div class="actions">{children}</div>

      <div class={`account${quietUser ? ' quiet' : ''}`}>
        <span data-testid="header-user">{`${session.user} (${session.role})`}</span>
        {session.authMode !== 'none' && (
          <button type="button" class="btn ghost small" data-testid="logout-button" onClick={onLogout}>
            Log out
          </button>
        )}
      </div>
    </header>
  );
}
