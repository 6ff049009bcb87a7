// Time to containment at time scale 1: simulated time then equals wall time, so the handler's own CPU (SDK
// marshalling, validation, the incident claim) counts exactly as it would in Lambda, not multiplied by a scale.
// The durations of state changes are shortened for these runs only: containment is over before any state changes,
// and the rest of each response then completes in seconds. Ours runs in both isolation modes: with the untrack hop
// (the default) and direct (cutTrackedConnections false).
import type { ContainmentPath } from "./callLog";
import { TIME_SCALE_1_BENCH, isolationSetting } from "./model";
import { runBaseline, runOurs } from "./responseRuns";
import { referenceWorkload, withBench } from "./scenario";
import { median } from "./stats";

export interface ContainmentSample {
  readonly isolatedMs: number;
  readonly criticalPathCalls: number;
  readonly awsMs: number;
  readonly localMs: number;
  readonly path: string[];
}

export interface ContainmentResult {
  readonly timeScale: number;
  readonly repetitions: number;
  readonly networkInterfaces: number;
  /** The first response in a fresh process (modules just loaded, first connections), reported apart. */
  readonly firstInProcess: Record<ContainmentSide, ContainmentSample>;
  /** Ours with the untrack hop (the default), ours direct (CUT_TRACKED_CONNECTIONS=false), the blog flow. */
  readonly ours: ContainmentSamples;
  readonly oursDirect: ContainmentSamples;
  readonly baseline: ContainmentSamples;
}

export const CONTAINMENT_SIDES = ["ours", "oursDirect", "baseline"] as const;
export type ContainmentSide = (typeof CONTAINMENT_SIDES)[number];

interface ContainmentSamples {
  readonly medianMs: number;
  readonly samples: ContainmentSample[];
}

function sample(path: ContainmentPath | undefined): ContainmentSample {
  if (path === undefined) throw new Error("the response never isolated the instance");
  return {
    isolatedMs: path.isolatedMs,
    criticalPathCalls: path.path.length,
    awsMs: path.awsMs,
    localMs: path.localMs,
    path: path.path.map((call) => `${call.what} [${call.startMs}-${call.endMs} ms]`),
  };
}

export async function measureContainment(
  repetitions: number,
  networkInterfaces: number,
): Promise<ContainmentResult> {
  const { timeScale } = TIME_SCALE_1_BENCH;
  return withBench(TIME_SCALE_1_BENCH, async (harness) => {
    const oursOnce = async (cutTrackedConnections: boolean) => {
      const workload = referenceWorkload(harness, { kdumpReady: true, networkInterfaces });
      const run = await runOurs(harness, workload, isolationSetting(cutTrackedConnections));
      if (run.outcome !== "completed") throw new Error(`containment run: ${run.outcome}`);
      return sample(run.containment);
    };
    const once = async (): Promise<Record<ContainmentSide, ContainmentSample>> => {
      const ours = await oursOnce(true);
      const oursDirect = await oursOnce(false);
      const baseline = await runBaseline(harness, referenceWorkload(harness, { kdumpReady: true }), {
        isolateOnly: true,
      });
      return { ours, oursDirect, baseline: sample(baseline.containment) };
    };
    const firstInProcess = await once();
    const runs: Record<ContainmentSide, ContainmentSample>[] = [];
    for (let index = 0; index < repetitions; index += 1) runs.push(await once());
    const summary = (side: ContainmentSide): ContainmentSamples => {
      const samples = runs.map((run) => run[side]);
      return { medianMs: median(samples.map((entry) => entry.isolatedMs)), samples };
    };
    return {
      timeScale,
      repetitions,
      networkInterfaces,
      firstInProcess,
      ours: summary("ours"),
      oursDirect: summary("oursDirect"),
      baseline: summary("baseline"),
    };
  });
}
