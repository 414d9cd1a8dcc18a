// The Thresholds panel above the tabs: each threshold's expression, observed value and result; a failed one links to its rows.
import { formatObserved } from '../format';
import type { Threshold } from '../types';
import { HScroll } from './HScroll';

interface Props {
  thresholds: readonly Threshold[];
  failed: number;
  /** Show the statistics (or checks) a failed threshold is about. */
  onShowRows(threshold: Threshold): void;
}

/** What a failed threshold's link leads to, for its label. */
export function rowsOf(t: Threshold): 'checks' | 'stats' {
  return t.metric.replace(/\{.*$/s, '').trim() === 'checks' ? 'checks' : 'stats';
}

export function Thresholds({ thresholds, failed, onShowRows }: Props) {
  const total = thresholds.length;
  return (
    <section class="panel gates" aria-labelledby="thresholds-heading" data-testid="thresholds-panel">
      <h2 id="thresholds-heading">
        Thresholds{' '}
        <span class={failed > 0 ? 'gate-summary fail' : 'gate-summary pass'} data-testid="thresholds-summary">
          {failed > 0 ? `${failed} of ${total} failed` : total === 1 ? 'passes' : `all ${total} pass`}
        </span>
      </h2>
      <HScroll label="Thresholds">
        <table class="data" data-testid="thresholds-table">
          <thead>
            <tr>
              <th scope="col">Result</th>
              <th scope="col">Metric</th>
              <th scope="col">Expression</th>
              <th scope="col" class="num">
                Observed
              </th>
              <th scope="col">Abort on fail</th>
            </tr>
          </thead>
          <tbody>
            {thresholds.map((t, i) => (
              <tr key={i} class={t.ok ? '' : 'failed'} data-testid="threshold-row">
                <td>
                  <span class={t.ok ? 'gate pass' : 'gate fail'} data-testid="threshold-result">
                    {t.ok ? 'pass' : 'fail'}
                  </span>
                </td>
                <td class="name">
                  {t.ok ? (
                    t.metric
                  ) : (
                    <button type="button" class="link-button" data-testid="threshold-link" onClick={() => onShowRows(t)}>
                      {t.metric}
                      <span class="link-hint">{rowsOf(t) === 'checks' ? ' (show the checks)' : ' (show its rows)'}</span>
                    </button>
                  )}
                </td>
                <td>
                  <code>{t.expression}</code>
                </td>
                <td class="num" data-testid="threshold-observed">
                  {t.observed === null ? <span class="muted">no data</span> : formatObserved(t.observed, t.unit)}
                </td>
                <td>{t.abort_on_fail ? <span class="tag warn">aborts the run</span> : <span class="muted">–</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </HScroll>
    </section>
  );
}
