import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface SeriesSpec {
  label: string;
  color: string;
  format(v: number): string;
}

interface Props {
  testid: string;
  title: string;
  series: SeriesSpec[];
  /** [times (epoch s), ...one array per series] */
  data: uPlot.AlignedData;
  height?: number;
}

/**
 * One uPlot chart that follows its container's width (ResizeObserver), so it works from a
 * 400 px phone to a wide screen. uPlot styles its nodes through CSSOM, which the CSP allows.
 */
export function Chart({ testid, title, series, data, height = 220 }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latest = useRef(data);
  latest.current = data;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(200, Math.floor(el.clientWidth)),
      height,
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [
        { stroke: '#52606d', grid: { stroke: '#eef1f4' }, ticks: { stroke: '#d9dee3' } },
        {
          stroke: '#52606d',
          grid: { stroke: '#eef1f4' },
          ticks: { stroke: '#d9dee3' },
          size: 56,
          values: (_u, splits) => splits.map((v) => (series[0] ? series[0].format(v) : String(v))),
        },
      ],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          spanGaps: false,
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
    plot.current?.setData(data);
  }, [data]);

  return (
    <section class="chart-card">
      <h3>{title}</h3>
      <div class="chart" ref={box} data-testid={testid} />
    </section>
  );
}
