import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface SeriesSpec {
  label: string;
  color: string;
  format(v: number): string;
}

const TIME_INCRS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400];
const INT_INCRS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1e3, 2e3, 2500, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6];

/** Epoch seconds as local HH:MM:SS. */
function clock(t: number): string {
  return new Date(t * 1000).toLocaleTimeString('en-GB', { hour12: false });
}

interface Props {
  testid: string;
  title: string;
  series: SeriesSpec[];
  /** [times (epoch s), ...one array per series] */
  data: uPlot.AlignedData;
  height?: number;
  /** Whole-number y axis (users). */
  integer?: boolean;
}

/**
 * One uPlot chart that follows its container's width (ResizeObserver), so it works from a
 * 400 px phone to a wide screen. uPlot styles its nodes through CSSOM, which the CSP allows.
 */
export function Chart({ testid, title, series, data, height = 220, integer = false }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latest = useRef(data);
  latest.current = data;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const axis = { stroke: '#52606d', grid: { stroke: '#eef1f4' }, ticks: { stroke: '#d9dee3' } };
    const opts: uPlot.Options = {
      width: Math.max(200, Math.floor(el.clientWidth)),
      height,
      // [top, right, bottom, left]; null = uPlot's own. The right side leaves room for half of the
      // last time label ("12:34:56"), which is centred on the plot's right edge.
      padding: [null, 34, null, null],
      cursor: { drag: { x: false, y: false } },
      hooks: {
        // Not hovering: the legend shows the latest values (uPlot would show "–" for no cursor).
        setLegend: [
          (u) => {
            const last = u.data[0].length - 1;
            if (u.legend.idx == null && last >= 0) u.setLegend({ idx: last }, false);
          },
        ],
      },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [
        // Whole seconds only (no ":01.500" ticks on a young run); a run shown is at most an hour.
        { ...axis, incrs: TIME_INCRS, values: (_u, splits) => splits.map(clock) },
        {
          ...axis,
          ...(integer ? { incrs: INT_INCRS } : {}),
          size: (_u, values) => 18 + 7 * Math.max(3, ...(values ?? []).map((v) => v.length)),
        },
      ],
      series: [
        { label: 'Time', value: (_u: uPlot, v: number | null) => (v === null ? '' : clock(v)) },
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          points: { show: false },
          value: (_u: uPlot, v: number | null) => (v === null ? '–' : s.format(v)),
        })),
      ],
    };
    const u = new uPlot(opts, latest.current, el);
    plot.current = u;

    const ro = new ResizeObserver(() => {
      const w = Math.floor(el.clientWidth);
      if (w > 0 && w !== u.width) u.setSize({ width: w, height });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
    // The series are fixed per chart; new data goes through setData below.
  }, []);

  useEffect(() => {
    const u = plot.current;
    if (!u) return;
    u.setData(data);
    // Not hovering: follow the newest point (setData doesn't always redo the legend).
    const last = data[0].length - 1;
    if (u.cursor.idx == null && last >= 0) u.setLegend({ idx: last }, false);
  }, [data]);

  return (
    <section class="chart-card">
      <h3>{title}</h3>
      <div class="chart" ref={box} data-testid={testid} />
    </section>
  );
}
