// Time to containment at time scale 1: simulated time then equals wall time, so the handler's own CPU (SDK
// marshalling, validation, the incident claim) counts exactly as it would in Lambda, not multiplied by a scale.
// The durations of state changes are shortened for these runs only: containment is over before any state changes,
// and the rest of each response then completes in seconds.
import type { ContainmentPath } from "./callLog";
import { SHORTENED_DURATIONS, TIME_SCALES } from "./model";
import { runBaseline, runOurs } from "./responseRuns";
import { referenceWorkload, startBench } from "./scenario";
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
  readonly firstInProcess: { ours: ContainmentSample; baseline: ContainmentSample };
  readonly ours: { medianMs: number; samples: ContainmentSample[] };
  readonly baseline: { medianMs: number; samples: ContainmentSample[] };
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
  const timeScale = TIME_SCALES.containment;
  const harness = await startBench({
    timeScale,
    durations: SHORTENED_DURATIONS,
    // Polls every 50 ms: the rest of each response finishes quickly; containment makes no poll.
    timingOverrides: { POLL_INTERVAL_SECONDS: 0.05 },
  });
  try {
    const once = async () => {
      const ours = await runOurs(
        harness,
        referenceWorkload(harness, { kdumpReady: true, networkInterfaces }),
      );
      if (ours.outcome !== "completed") throw new Error(`containment run: ${ours.outcome}`);
      const baseline = await runBaseline(harness, referenceWorkload(harness, { kdumpReady: true }), {
        isolateOnly: true,
      });
      return { ours: sample(ours.containment), baseline: sample(baseline.containment) };
    };
    const firstInProcess = await once();
    const runs = [];
    for (let index = 0; index < repetitions; index += 1) runs.push(await once());
    const ours = runs.map((run) => run.ours);
    const baseline = runs.map((run) => run.baseline);
    return {
      timeScale,
      repetitions,
      networkInterfaces,
      firstInProcess,
      ours: { medianMs: median(ours.map((entry) => entry.isolatedMs)), samples: ours },
      baseline: { medianMs: median(baseline.map((entry) => entry.isolatedMs)), samples: baseline },
    };
  } finally {
    await harness.stop();
  }
}
