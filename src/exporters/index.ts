// Public surface of the exporters layer: console, CSV, JSON, summary JSON, JUnit and HTML renderers of a ReportData.
export type { BucketValue, LiveProgress, ReportData, ReportMeta, TaskRatioNode, TaskRatios } from './report-data.ts';
export { entryKey } from './report-data.ts';
export {
  ConsoleReporter,
  colorEnabled,
  exceptionsTable,
  failuresTable,
  finalSummary,
  liveHeader,
  liveView,
  percentileTable,
  statsTable,
  type ConsoleReporterOptions,
  type ConsoleStream,
  type TableOptions,
} from './console.ts';
export {
  csvCell,
  csvPaths,
  CsvWriter,
  type CsvFs,
  type CsvWriterOptions,
  csvRow,
  EXCEPTIONS_COLUMNS,
  exceptionsCsv,
  FAILURES_COLUMNS,
  failuresCsv,
  HISTORY_COLUMNS,
  historyHeader,
  historyRows,
  STATS_COLUMNS,
  statsCsv,
  type CsvCell,
} from './csv.ts';

export { entryJson, percentileKey, jsonReport, locustEntryJson, toJsonText, type EntryJson, type LocustStatsEntryJson } from './json.ts';
export { summaryJson, type SummaryCheck, type SummaryJson, type SummaryScenario, type SummaryThreshold } from './summary-json.ts';
export { junitReport } from './junit.ts';
export { htmlReport } from './html.ts';
export { escapeHtml } from './escape-html.ts';
export { ReportWriteError, exporterErrorCodes } from './errors.ts';
