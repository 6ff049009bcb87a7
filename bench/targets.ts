// The targets issue 12 sets, each with what this run measured and whether it is met.
import type { ArtifactResult } from "./artifact";
import { formatValue, typicalSample, type Comparison } from "./beforeAfter";
import type { BurstResult } from "./burst";
import type { ContainmentResult, ContainmentSide } from "./containment";
import type { EndToEndResult } from "./endToEnd";
import { isolationMode } from "./model";
import { ratioText } from "./printResults";
import { ratio, seconds } from "./stats";

export interface Target {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean | undefined;
}

export function targets(
  containment: ContainmentResult,
  endToEnd: readonly EndToEndResult[],
  bursts: readonly BurstResult[],
  artifact: ArtifactResult,
  comparisons: readonly Comparison[],
): Target[] {
  const pathTarget = (target: string, side: ContainmentSide, most: number): Target => {
    const typical = typicalSample(containment[side].samples);
    return {
      target,
      measured: `${typical.criticalPathCalls} (${typical.path.map((step) => step.split(" ")[0]).join(" -> ")})`,
      met: typical.criticalPathCalls <= most,
    };
  };
  const list: Target[] = [
    pathTarget("2 sequential AWS calls to isolation (with the untrack hop)", "ours", 2),
    pathTarget("1 AWS call to isolation (without: cutTrackedConnections false)", "oursDirect", 1),
  ];
  for (const result of endToEnd) {
    const value = ratio(result.ours.medians.complete, result.baseline.medians.complete);
    list.push({
      target: `end to end at most 0.6 x the blog flow (${result.scenario})`,
      measured: ratioText(value),
      met: value === undefined ? undefined : value <= 0.6,
    });
  }
  const hundred = bursts.find((burst) => burst.size === 100);
  for (const isolation of [hundred?.isolation, hundred?.directIsolation]) {
    if (isolation === undefined) continue;
    const allIsolated = isolation.allIsolatedMs;
    const floor = `bucket floor ${seconds(isolation.bucketLowerBoundMs)}`;
    list.push({
      target: `100 isolated within 10 s simulated (${isolationMode(isolation.cutTrackedConnections)})`,
      measured:
        allIsolated === undefined
          ? `${isolation.isolatedWithinWindow}/100 within ${seconds(isolation.windowMs)} (${floor})`
          : `${seconds(allIsolated)} (${floor})`,
      met: allIsolated !== undefined && allIsolated <= 10_000,
    });
  }
  const failures = bursts.reduce((sum, burst) => sum + burst.completion.failures, 0);
  if (bursts.length > 0) {
    list.push({
      target: "zero failures in the bursts (completion runs)",
      measured: String(failures),
      met: failures === 0,
    });
    const runs = bursts.flatMap((burst) => [burst.isolation, burst.completion, burst.directIsolation]);
    const startExecutions = runs.flatMap((run) => (run === undefined ? [] : [run.startExecution]));
    const throttledStarts = startExecutions.reduce((sum, figures) => sum + figures.throttled, 0);
    const largest = bursts.at(-1)!;
    list.push({
      target: "StartExecution never throttled in the bursts (documented bucket)",
      measured:
        `${throttledStarts} of ${startExecutions.reduce((sum, figures) => sum + figures.calls, 0)} ` +
        `(burst of ${largest.size}: ${largest.completion.startExecution.calls} calls, bucket ` +
        `${largest.completion.startExecution.bucket.capacity})`,
      met: throttledStarts === 0,
    });
  }
  for (const entry of comparisons)
    if (entry.target !== undefined)
      list.push({
        target: entry.target.label,
        measured: `${formatValue(entry.before, entry.unit)} -> ${formatValue(entry.after, entry.unit)} (${ratioText(entry.ratio)})`,
        met: entry.target.met,
      });
  list.push({
    target: "Lambda artifact at most 100 kB zipped",
    measured: `${(artifact.zippedBytes / 1000).toFixed(1)} kB`,
    met: artifact.zippedBytes <= 100_000,
  });
  return list;
}
