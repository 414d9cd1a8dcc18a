// Builds the exporters' ReportData from a runner snapshot: views derived with the stats functions.
import type { RunnerControl } from '../core/contracts.ts';
import type { ReportData, ScenarioMeta, TaskRatios } from './report-data.ts';
import { entryView, sortEntries } from '../stats/view.ts';
import type { StatsSnapshot } from '../stats/types.ts';

export interface ReportContext {
  host: string;
  cicadafiles: string[];
  startTime: number;
  cicadaVersion: string;
  taskRatios?: TaskRatios;
  scenarios?: ScenarioMeta[];
}

export function buildReportData(runner: RunnerControl<StatsSnapshot>, context: ReportContext, endTime = Date.now()): ReportData {
  const snapshot = runner.snapshot();
  const now = snapshot.time;
  // Requests still finish while stopping; once stopped (or not yet started) nothing is current.
  const live = runner.state !== 'stopped' && runner.state !== 'ready';
  return {
    snapshot,
    entries: sortEntries(snapshot.entries).map((e) => entryView(e, now, live)),
    total: entryView(snapshot.total, now, live),
    meta: {
      host: context.host,
      cicadafiles: context.cicadafiles,
      // The statistics' own start (a run's start, or the last reset), not the process's: a web UI waits.
      startTime: snapshot.startTime > 0 ? Math.max(context.startTime, snapshot.startTime * 1000) : context.startTime,
      endTime,
      state: runner.state,
      userCount: runner.userCount,
      userClassCounts: runner.userClassCounts(),
      ...(context.taskRatios ? { taskRatios: context.taskRatios } : {}),
      cicadaVersion: context.cicadaVersion,
      ...(context.scenarios ? { scenarios: context.scenarios } : {}),
    },
  };
}
