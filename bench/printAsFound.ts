// Issue 14's figures in the console report, and their targets: the as-found set at time scale 1 (with the
// end-to-end runs' figure beside it) and the organisation-wide burst.
import type { AsFoundResult } from "./asFound";
import type { BurstAsFound } from "./burstAsFound";
import type { EndToEndResult } from "./endToEnd";
import { AS_FOUND_TARGET_TEXT, ORG_WIDE_BURST_FLOOR_FACTOR } from "./model";
import { millis, ratio, seconds } from "./stats";
import type { Target } from "./targets";

const pad = (text: string, width: number) => (text.length >= width ? `${text} ` : text.padEnd(width));

const MILESTONES = [
  ["isolated", "all isolated"],
  ["asFoundRequested", "all as-found sets requested"],
] as const;

export function printAsFound(result: AsFoundResult | undefined): void {
  if (result === undefined) return;
  console.log(
    `\n1b. DISK EVIDENCE SECURED (AS FOUND, issue 14) — time scale ${result.timeScale}, ours with the untrack hop, ` +
      `handler start -> the as-found CreateSnapshots answered and its snapshots locked; median of ` +
      `${result.repetitions} (first response in the process apart); target ${AS_FOUND_TARGET_TEXT}`,
  );
  for (const scenario of result.scenarios)
    console.log(
      `   ${pad(scenario.scenario, 28)}median ${pad(millis(scenario.medianMs), 10)}max ${pad(millis(scenario.maxMs), 10)}` +
        `${scenario.met ? "met" : "NOT MET"}  (${scenario.samplesMs.map((value) => millis(value)).join(", ")})`,
    );
}

/** The as-found target per scenario, at time scale 1, with the end-to-end figure and the blog flow's beside it. */
export function asFoundTargets(
  result: AsFoundResult | undefined,
  endToEnd: readonly EndToEndResult[],
): Target[] {
  if (result === undefined) return [];
  return result.scenarios.map((scenario) => {
    const side = endToEnd.find((entry) => entry.kdumpReady === scenario.kdumpReady);
    const ours = side?.ours.medians.asFoundSecured;
    const blog = side?.baseline.medians.asFoundSecured;
    const quotient = ratio(ours, blog);
    return {
      target: `disk evidence secured (as found) ${AS_FOUND_TARGET_TEXT} (${scenario.scenario}, time scale 1)`,
      measured:
        `median ${seconds(scenario.medianMs)}` +
        (side === undefined
          ? ""
          : `; at scale ${side.timeScale} ${seconds(ours)} (CPU x ${side.timeScale}), ` +
            `${quotient === undefined ? "—" : quotient.toFixed(2)} x the blog flow's first snapshot (${seconds(blog)})`),
      met: scenario.met,
    };
  });
}

/** Each milestone within ORG_WIDE_BURST_FLOOR_FACTOR x its floor, and no failure. */
export function orgBurstTargets(burst: BurstAsFound | undefined): Target[] {
  if (burst === undefined) return [];
  const goals: Target[] = MILESTONES.map(([key, label]) => {
    const milestone = burst[key];
    const quotient = ratio(milestone.allMs, milestone.floorMs);
    return {
      target: `burst of ${burst.size}: ${label} within ${ORG_WIDE_BURST_FLOOR_FACTOR} x the bucket floor`,
      measured:
        milestone.allMs === undefined
          ? `${milestone.reached}/${burst.size} in ${seconds(burst.windowMs)} (floor ${seconds(milestone.floorMs)})`
          : `${seconds(milestone.allMs)}, floor ${seconds(milestone.floorMs)} (${quotient === undefined ? "—" : quotient.toFixed(2)} x)`,
      met:
        milestone.allMs !== undefined && milestone.allMs <= ORG_WIDE_BURST_FLOOR_FACTOR * milestone.floorMs,
    };
  });
  goals.push({
    target: `burst of ${burst.size}: zero failures (isolated, as-found set, invocations)`,
    measured: String(burst.failures),
    met: burst.failures === 0,
  });
  return goals;
}

export function printOrgBurst(burst: BurstAsFound | undefined): void {
  if (burst === undefined) return;
  console.log(
    `\n3b. ORGANISATION-WIDE BURST (issue 14) — ${burst.size} instances flagged at once, time scale ` +
      `${burst.timeScale}, with the untrack hop, watched until every as-found set is requested (at most ` +
      `${seconds(burst.windowMs)}), then the executions are stopped; floor: the least time EC2's and Step ` +
      `Functions' documented buckets allow for the calls the responses made before each milestone (per instance, ` +
      `x ${burst.size}), max(0, calls - capacity) / refill per bucket (pooled where either of two actions may serve)`,
  );
  console.log(
    `   ${pad("", 30)}${pad("all", 10)}${pad("median", 10)}${pad("reached", 10)}${pad("floor", 10)}` +
      `${pad("all/floor", 11)}target (${ORG_WIDE_BURST_FLOOR_FACTOR} x floor)`,
  );
  for (const [key, label] of MILESTONES) {
    const milestone = burst[key];
    const quotient = ratio(milestone.allMs, milestone.floorMs);
    const met =
      milestone.allMs !== undefined && milestone.allMs <= ORG_WIDE_BURST_FLOOR_FACTOR * milestone.floorMs;
    console.log(
      `   ${pad(label, 30)}${pad(seconds(milestone.allMs), 10)}${pad(seconds(milestone.medianMs), 10)}` +
        `${pad(`${milestone.reached}/${burst.size}`, 10)}${pad(seconds(milestone.floorMs), 10)}` +
        `${pad(quotient === undefined ? "—" : quotient.toFixed(2), 11)}${met ? "met" : "NOT MET"}`,
    );
    for (const demand of milestone.demands) {
      const buckets = demand.buckets
        .map((bucket) => `${bucket.capacity}+${bucket.refillPerSecond}/s`)
        .join(" | ");
      console.log(
        `     ${pad(demand.label, 62)}${pad(`${demand.calls} calls (${(demand.calls / burst.size).toFixed(2)}/instance)`, 28)}` +
          `bucket ${pad(buckets, 22)}floor ${seconds(demand.floorMs)}`,
      );
    }
  }
  const throttled = Object.entries(burst.throttledByAction)
    .sort(([, a], [, b]) => b - a)
    .map(([action, count]) => `${action} ${count}`)
    .join(", ");
  console.log(
    `   failures ${burst.failures} (invocations that threw ${burst.failedInvocations}); failed Tasks ` +
      `${burst.failedTasks} (retried or caught by the state machine); ${burst.taskInvocations} Task invocations, ` +
      `${burst.executionsStopped} executions stopped at the end`,
  );
  const path = burst.asFoundPath;
  const span = (entry: { medianMs?: number; maxMs?: number }) =>
    `median ${seconds(entry.medianMs)}, max ${seconds(entry.maxMs)}`;
  console.log(
    `   where the time to the as-found sets went (each instance: isolated, then StartExecution answered, the ` +
      `as-found Task handed to its Lambda environment, the step's first call, its CreateSnapshots answered): ` +
      `isolated ${span(path.isolated)}; + ${span(path.isolatedToStarted)}; + ${span(path.startedToDispatched)}; ` +
      `+ ${span(path.dispatchedToStep)}; + ${span(path.stepToRequested)}`,
  );
  const shares = Object.entries(burst.moveBucketShares)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([purpose, count]) => `${purpose} ${count}`)
    .join(", ");
  console.log(`   the group moves' buckets until the last isolation (successful calls): ${shares}`);
  console.log(`   EC2 throttled (RequestLimitExceeded) by action: ${throttled === "" ? "none" : throttled}`);
  console.log(
    `   load: simulator loop p99 ${millis(burst.load.eventLoopDelayP99Ms)} / max ${millis(burst.load.eventLoopDelayMaxMs)}, ` +
      `responders ${(burst.respondersCpuMs / burst.load.wallMs).toFixed(2)} CPU-s/s, ` +
      `${burst.load.requestsOver15s + burst.respondersRequestsOver15s} requests over 15 s; wall time of the ` +
      `measurement ${seconds(burst.benchWallMs)} (the run itself ${seconds(burst.load.wallMs)})`,
  );
  for (const error of burst.errorSamples) console.log(`   threw: ${error}`);
}
