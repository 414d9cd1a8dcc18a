// The live feed: /stream events into the latest snapshot plus the charts' history.

import { useEffect, useRef, useState } from 'preact/hooks';
import { getSession, getStats, openStream, type SessionResult } from './api';
import { mergeHistory } from './history';
import type { HistoryPoint, StatsSnapshot } from './types';

/** How long to wait before reopening a stream that EventSource gave up on. */
const REOPEN_MS = 3000;

export interface LiveStats {
  stats: StatsSnapshot | null;
  history: HistoryPoint[];
  connected: boolean;
  /** Fetch /stats/requests now (after an action) instead of waiting for the next event. */
  refresh(): Promise<void>;
}

/**
 * Subscribe to /stream while `active`. On an error the session is checked, because an
 * EventSource can't tell a dropped connection from an expired session: `onSessionCheck`
 * gets the answer (a login prompt, or a fresh session in auth mode none).
 */
export function useLiveStats(active: boolean, onSessionCheck: (r: SessionResult) => void): LiveStats {
  const [stats, setStats] = useState<StatsSnapshot | null>(null);
  const [history, setHistory] = useState<HistoryPoint[]>([]);
  const [connected, setConnected] = useState(false);
  const checkRef = useRef(onSessionCheck);
  checkRef.current = onSessionCheck;

  useEffect(() => {
    if (!active) return;
    let stopped = false;
    let close: (() => void) | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // The first event after each (re)connect carries the full history again.
    let fresh = true;

    const connect = () => {
      fresh = true;
      close = openStream({
        onOpen() {
          fresh = true;
          setConnected(true);
        },
        onStats(event) {
          const { history: points, history_reset: reset, ...snapshot } = event;
          // After a (re)connect, or when the server says so (a new run), the points are the
          // whole history: replace ours, don't append to them.
          const replace = fresh || reset === true;
          fresh = false;
          setStats(snapshot);
          setHistory((cur) => mergeHistory(cur, points, replace));
        },
        onError(closed) {
          setConnected(false);
          if (closed) {
            // EventSource won't retry after an HTTP error answer; we do, a bit later.
            close?.();
            close = null;
            timer = setTimeout(() => {
              if (!stopped) connect();
            }, REOPEN_MS);
          }
          getSession()
            .then((r) => {
              if (!stopped) checkRef.current(r);
            })
            .catch(() => {
              /* server unreachable: keep waiting for EventSource to reconnect */
            });
        },
      });
    };
    connect();

    return () => {
      stopped = true;
      clearTimeout(timer);
      close?.();
      setConnected(false);
    };
  }, [active]);

  useEffect(() => {
    if (!active) {
      setStats(null);
      setHistory([]);
    }
  }, [active]);

  const refresh = async () => {
    try {
      const fresh = await getStats();
      // Don't let a slow answer overwrite a newer stream event.
      setStats((cur) => (!cur || (fresh.time ?? 0) >= (cur.time ?? 0) ? fresh : cur));
    } catch {
      /* the stream will bring it; 401 is handled globally */
    }
  };

  return { stats, history, connected, refresh };
}
