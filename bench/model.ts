// The benchmark's latency model and scenario sizes: one place, printed with every result and written into
// bench/results/latest.json, so a figure is never read without the conditions it was measured under.
import { DEFAULT_DURATIONS, type StateDurations } from "../simulator";
import { EC2_CATEGORY_LIMITS, EC2_UNCATEGORIZED_LIMITS } from "../simulator/throttling";

/** Simulated latency of every AWS call the simulator serves (EC2, Auto Scaling, ELBv2, IAM, S3, SNS, Lambda). */
export const CALL_LATENCY_MS = 50;

/**
 * AWS-typical state durations: the simulator's defaults, each with its source in simulator/README.md
 * (instance pending/stopping 40 s, kdump 20 s + 10 s per GiB, snapshot 60 s + 6 s per GiB, target healthy 150 s...).
 */
export const AWS_TYPICAL_DURATIONS: StateDurations = { ...DEFAULT_DURATIONS };

/**
 * Durations a hundred times shorter, for the runs at time scale 1 that measure only containment: it happens
 * before any state change matters, and the rest of each response then finishes in seconds of wall time.
 */
const SHORTENED_DURATIONS: StateDurations = Object.fromEntries(
  Object.entries(DEFAULT_DURATIONS).map(([name, ms]) => [name, Math.round(ms / 100)]),
) as unknown as StateDurations;

/** Time scales (simulated ms per wall ms) of each measurement: see bench/README.md for why each is what it is. */
export const TIME_SCALES = {
  /** Containment is sub-second: at 1, local CPU counts as what it is, not multiplied. */
  containment: 1,
  /** Ours vs the blog flow, minutes of AWS time each: both at the same scale in the same run. */
  endToEnd: 20,
  /**
   * The CPU check of the before/after comparison: ours alone, without kdump (its shortest response, where local
   * work weighs most), at a scale where CPU counts 5 times instead of 20 (bench/README.md).
   */
  endToEndCpuCheck: 5,
  /** Burst, until all are isolated (containment again: honest only at 1). */
  burstIsolation: 1,
} as const;

/**
 * The bench of the measurements at time scale 1 that stop at containment or right after it (containment, the
 * as-found set): shortened durations, and polls every 50 ms, so the rest of each response finishes quickly
 * (containment itself makes no poll).
 */
export const TIME_SCALE_1_BENCH = {
  timeScale: TIME_SCALES.containment,
  durations: SHORTENED_DURATIONS,
  timingOverrides: { POLL_INTERVAL_SECONDS: 0.05 },
} as const;

/**
 * Burst until all are done: minutes of AWS time, and a hundred responders' CPU on this machine's two cores. Each
 * size runs at the highest scale that keeps the responders' CPU under the wall time it gets (bench/README.md).
 */
export const BURST_COMPLETION_SCALES: Readonly<Record<number, number>> = { 10: 10, 50: 5, 100: 4 };

/** Simulated time a burst's completion run may take: a hundred responses under throttling finish well within. */
export const BURST_COMPLETION_CAP_MS = 900_000;

/** How long each burst size's isolation run watches (simulated = wall ms at scale 1). */
export const BURST_ISOLATION_WINDOWS_MS: Readonly<Record<number, number>> = {
  10: 5_000,
  50: 15_000,
  100: 60_000,
};

/** The reference workload: a web server launched from a launch template behind a target group. */
export const REFERENCE_INSTANCE = {
  instanceType: "m6i.large",
  rootGiB: 8,
  dataGiB: 100,
} as const;

export const BURST_SIZES = [10, 50, 100] as const;

/**
 * Issue 14: an organisation-wide worm, this many flagged at once, watched at time scale 1 until every as-found set
 * is requested (at most ORG_WIDE_BURST_WINDOW_MS), each milestone held to ORG_WIDE_BURST_FLOOR_FACTOR x the floor
 * EC2's documented buckets allow for the calls made (bench/bucketFloor.ts).
 */
export const ORG_WIDE_BURST = 500;
export const ORG_WIDE_BURST_WINDOW_MS = 300_000;
export const ORG_WIDE_BURST_FLOOR_FACTOR = 1.3;

/**
 * The documented EC2 request buckets that bound a burst's containment (from the simulator's table): the ENI moves,
 * and the instance-level move the handler falls back to for a single-ENI instance.
 */
export const ENI_MOVE_BUCKET = EC2_UNCATEGORIZED_LIMITS.ModifyNetworkInterfaceAttribute!;

export const INSTANCE_MOVE_BUCKET = EC2_CATEGORY_LIMITS.mutating;

/**
 * The two isolation modes (stack setting cutTrackedConnections, handler CUT_TRACKED_CONNECTIONS, default true):
 * through the untrack group (2 moves per ENI, tracked connections cut) or straight into isolation (1 move).
 * Always set explicitly: harnesses and burst workers keep process.env from one run to the next.
 */
export const isolationSetting = (cutTrackedConnections: boolean): Record<string, string> => ({
  CUT_TRACKED_CONNECTIONS: String(cutTrackedConnections),
});

export const isolationMode = (cutTrackedConnections: boolean): string =>
  cutTrackedConnections ? "with the untrack hop" : "direct, without the untrack hop";

export function latencyModelDescription(): Record<string, unknown> {
  return {
    callLatencyMs: CALL_LATENCY_MS,
    jitterMs: 0,
    appliesTo:
      "every call the simulator models; DynamoDB passes through it to local dynalite and is not latency-modelled",
    stateDurationsMs: AWS_TYPICAL_DURATIONS,
    stateDurationsSource: "simulator/README.md (simulator defaults)",
    throttling:
      "EC2's documented token buckets (simulator/throttling.ts) and Step Functions' (StartExecution and the " +
      "other API actions, simulator/services/stepFunctions.ts), on in every run",
    timeScales: { ...TIME_SCALES, burstCompletion: BURST_COMPLETION_SCALES },
  };
}

/**
 * The last commit of the old engine (the response ran inside the responder Lambda: lease, self-invoked
 * continuations, a time budget). Its own bench code runs in the same `npm run bench`, from a copy of that commit
 * (bench/baseline.ts), so every "before" figure is measured on this machine in this run.
 */
export const BEFORE_COMMIT = "f727dac";

/** Issue 14: the disks' as-found set requested and locked within 3 s of the finding (simulated, 50 ms per call). */
export const AS_FOUND_TARGET_MS = 3_000;
export const AS_FOUND_TARGET_TEXT = `at most ${AS_FOUND_TARGET_MS / 1000} s simulated at ${CALL_LATENCY_MS} ms per call`;

/** Issue 12: no end-to-end milestone may be more than 5% later after the move to Step Functions. */
export const MILESTONE_TOLERANCE = 1.05;
