// The live feed: /stream events into the latest snapshot, the charts' history, and the thresholds and checks.

import { useEffect, useState } from 'preact/hooks';
import { getStats, openStream, refreshSession } from './api';
import { mergeHistory } from './history';
import type { Gates, HistoryPoint, StatsSnapshot } from './types';

const NO_GATES: Gates = { thresholds: [], failed: 0, checks: [] };

/** How long to wait before reopening a stream that EventSource gave up on. */
const REOPEN_MS = 3000;

export interface LiveStats {
  stats: StatsSnapshot | null;
  history: HistoryPoint[];
  /** From the stream only (GET /stats/requests has none): a refresh() leaves them as they are. */
  gates: Gates;
  connected: boolean;
  /** The stream failed and no event has arrived since: show "reconnecting". */
  lost: boolean;
  /** Counts the recoveries after a lost stream (the server may have restarted: reload what it serves). */
  reconnects: number;
  /** Fetch /stats/requests now (after an action) instead of waiting for the next event. */
  refresh(): Promise<void>;
}

/**
 * Subscribe to /stream while `active`. On an error, and again when the stream opens after one,
 * the session is checked (refreshSession: its listener gets the answer), because an EventSource
 * can't tell a dropped connection from an expired session, and a restarted server has forgotten
 * the session (in auth mode none the check makes a new one, with a new CSRF token).
 */
export function useLiveStats(active: boolean): LiveStats {
  const [stats, setStats] = useState<StatsSnapshot | null>(null);
  const [history, setHistory] = useState<HistoryPoint[]>([]);
  const [gates, setGates] = useState<Gates>(NO_GATES);
  const [connected, setConnected] = useState(false);
  const [lost, setLost] = useState(false);
  const [reconnects, setReconnects] = useState(0);

  useEffect(() => {
    if (!active) return;
    let stopped = false;
    let close: (() => void) | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // The first event after each (re)connect carries the full history again.
    let fresh = true;
    // An error happened and no event has arrived since.
    let failing = false;

    const checkSession = () => {
      refreshSession().catch(() => {
        /* server unreachable: the stream's reconnect will ask again */
      });
    };

    const connect = () => {
      fresh = true;
      close = openStream({
        onOpen() {
          fresh = true;
          setConnected(true);
          // Back after an error: the server may be a new process that doesn't know our session.
          if (failing) checkSession();
        },
        onStats(event) {
          const { history: points, history_reset: reset, thresholds, thresholds_failed: failed, checks, ...snapshot } = event;
          // After a (re)connect, or when the server says so (a new run), the points are the
          // whole history: replace ours, don't append to them.
          const replace = fresh || reset === true;
          fresh = false;
          if (failing) {
            failing = false;
            setLost(false);
            setReconnects((n) => n + 1);
          }
          setConnected(true);
          setStats(snapshot);
          setGates({ thresholds: thresholds ?? [], failed: failed ?? 0, checks: checks ?? [] });
          setHistory((cur) => mergeHistory(cur, points, replace));
        },
        onError(closed) {
          if (stopped) return;
          setConnected(false);
          failing = true;
          setLost(true);
          if (closed) {
            // EventSource won't retry after an HTTP error answer; we do, a bit later.
            close?.();
            close = null;
            clearTimeout(timer);
            timer = setTimeout(() => {
              if (!stopped) connect();
            }, REOPEN_MS);
          }
          checkSession();
        },
      });
    };
    connect();

    return () => {
      stopped = true;
      clearTimeout(timer);
      close?.();
      setConnected(false);
      setLost(false);
    };
  }, [active]);

  useEffect(() => {
    if (!active) {
      setStats(null);
      setHistory([]);
      setGates(NO_GATES);
    }
  }, [active]);

  const refresh = async () => {
    try {
      const fresh = await getStats();
      // Don't let a slow answer overwrite a newer stream event.
      setStats((cur) => (!cur || (fresh.time ?? 0) >= (cur.time ?? 0) ? fresh : cur));
    } catch {
      /* the stream will bring it; a lost session is handled by the session listener */
    }
  };

  return { stats, history, gates, connected, lost, reconnects, refresh };
}
