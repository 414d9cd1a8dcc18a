import { useMemo } from 'preact/hooks';
import type uPlot from 'uplot';
import { formatCount, formatMs, formatRps } from '../format';
import type { HistoryPoint } from '../types';
import { Chart, type SeriesSpec } from './Chart';

const RPS: SeriesSpec[] = [
  { label: 'RPS', color: '#16a34a', format: formatRps },
  { label: 'Failures/s', color: '#dc2626', format: formatRps },
];
const TIMES: SeriesSpec[] = [
  { label: 'Median', color: '#2563eb', format: formatMs },
  { label: '95%ile', color: '#d97706', format: formatMs },
  { label: '99%ile', color: '#9333ea', format: formatMs },
];
const USERS: SeriesSpec[] = [{ label: 'Users', color: '#0f766e', format: formatCount }];

function pct(p: HistoryPoint, key: string): number | null {
  const v = p.response_time_percentiles?.[key];
  return typeof v === 'number' ? v : null;
}

export function Charts({ history }: { history: readonly HistoryPoint[] }) {
  const data = useMemo(() => {
    const t = history.map((p) => p.time);
    return {
      rps: [t, history.map((p) => p.current_rps), history.map((p) => p.current_fail_per_sec)] as uPlot.AlignedData,
      times: [
        t,
        history.map((p) => pct(p, '0.5')),
        history.map((p) => pct(p, '0.95')),
        history.map((p) => pct(p, '0.99')),
      ] as uPlot.AlignedData,
      users: [t, history.map((p) => p.user_count)] as uPlot.AlignedData,
    };
  }, [history]);

  return (
    <div class="charts">
      {history.length === 0 && <p class="muted">No data yet: the charts fill in once a test runs.</p>}
      <Chart testid="chart-rps" title="Total requests per second" series={RPS} data={data.rps} />
      <Chart testid="chart-response-times" title="Response times (ms)" series={TIMES} data={data.times} />
      <Chart testid="chart-users" title="Number of users" series={USERS} data={data.users} integer />
    </div>
  );
}
