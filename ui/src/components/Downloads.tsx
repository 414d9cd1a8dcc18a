// Fixed same-origin links only: nothing here is built from server data.
const FILES = [
  { testid: 'download-stats-csv', href: '/stats/requests/csv', label: 'Request statistics (CSV)' },
  { testid: 'download-failures-csv', href: '/stats/failures/csv', label: 'Failures (CSV)' },
  { testid: 'download-exceptions-csv', href: '/exceptions/csv', label: 'Exceptions (CSV)' },
  { testid: 'download-history-csv', href: '/stats/requests_full_history/csv', label: 'Per-second history (CSV)' },
  { testid: 'download-report', href: '/stats/report?download=1', label: 'HTML report (download)' },
] as const;

export function Downloads() {
  return (
    <ul class="downloads">
      {FILES.map((f) => (
        <li key={f.testid}>
          <a href={f.href} data-testid={f.testid} download>
            {f.label}
          </a>
        </li>
      ))}
      <li>
        <a href="/stats/report" target="_blank" rel="noopener noreferrer" data-testid="open-report">
          Open the HTML report
        </a>
      </li>
    </ul>
  );
}
