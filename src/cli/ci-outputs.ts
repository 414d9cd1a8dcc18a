// The CI outputs of a run, `--junit FILE` and `--summary-json FILE`: written once at its end, their folder checked before it.
import path from 'node:path';
import { junitReport } from '../exporters/junit.ts';
import type { Output } from '../exporters/output.ts';
import { summaryJson } from '../exporters/summary-json.ts';
import { checkWritable, expandReportName, writeReportFile, type OutputSettings } from './run-outputs.ts';

/** `--junit FILE`: the thresholds and checks as JUnit XML, so a CI test view shows which ones failed. */
export function junitOutput(settings: OutputSettings, name: string): Output {
  const file = expandReportName(name, settings.options);
  return {
    name: 'junit',
    start: () => checkWritable(file, '--junit'),
    stop: async (data, end) => {
      await writeReportFile(file, junitReport(data, end));
      settings.logger.info(`JUnit report written to ${path.resolve(file)}`);
    },
  } satisfies Output;
}

/** `--summary-json FILE`: the whole run in one document (docs/summary.schema.json), for CI to gate on and archive. */
export function summaryJsonOutput(settings: OutputSettings, name: string): Output {
  const file = expandReportName(name, settings.options);
  return {
    name: 'summary-json',
    start: () => checkWritable(file, '--summary-json'),
    stop: async (data, end) => {
      await writeReportFile(file, `${JSON.stringify(summaryJson(data, end), null, 2)}\n`);
      settings.logger.info(`Summary JSON written to ${path.resolve(file)}`);
    },
  } satisfies Output;
}
