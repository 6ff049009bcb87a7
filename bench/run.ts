// `npm run bench`: every figure measured in this run, printed side by side and written to
// bench/results/latest.json with the latency model and the time scale of each figure (bench/README.md). The old
// engine (bench/model.ts BEFORE_COMMIT) is measured in the same run by its own bench code (bench/before.ts), each
// phase right after the same phase of today's code, and the two are printed side by side (issue 12).
//   --skip-suite   do not run the test suite (its figure is then reported as not measured)
//   --skip-before  do not run the old engine: its recorded results stand in, labelled as such
//   --quick        fewer repetitions and only the smallest burst (for working on the benchmark itself)
// Runs with any option write bench/results/partial.json instead of latest.json.
import { execSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { stopDynamo } from "../testkit/harness";
import { measureArtifact, type ArtifactResult } from "./artifact";
import { measureBeforePhase, startBefore, type Before } from "./before";
import { MILESTONE_LABELS, beforeAfter, formatValue, typicalSample, type Comparison } from "./beforeAfter";
import {
  measureBurstCompletion,
  measureBurstIsolation,
  stopBurstWorkers,
  type BurstCompletion,
  type BurstIsolation,
  type BurstResult,
} from "./burst";
import {
  CONTAINMENT_SIDES,
  measureContainment,
  type ContainmentResult,
  type ContainmentSide,
} from "./containment";
import { MILESTONES, measureEndToEnd, measureOursAtScale, type EndToEndResult } from "./endToEnd";
import {
  BURST_COMPLETION_CAP_MS,
  BURST_COMPLETION_SCALES,
  BURST_ISOLATION_WINDOWS_MS,
  BURST_SIZES,
  CALL_LATENCY_MS,
  REFERENCE_INSTANCE,
  TIME_SCALES,
  isolationMode,
  latencyModelDescription,
} from "./model";
import { millis, ratio, seconds } from "./stats";
import { iamTotals } from "./scenario";
import { runTestSuite, type SuiteResult } from "./testSuite";
import { USD_PER_1000_TRANSITIONS, usd } from "./workflowFigures";

interface Plan {
  readonly containmentRepetitions: number;
  readonly endToEndRepetitions: number;
  readonly burstSizes: readonly number[];
  readonly coldStarts: number;
  readonly suite: boolean;
  /** Measure the old engine in this run (else its recorded results stand in). */
  readonly before: boolean;
}

function plan(argv: readonly string[]): Plan {
  const quick = argv.includes("--quick");
  return {
    containmentRepetitions: quick ? 3 : 5,
    endToEndRepetitions: quick ? 1 : 3,
    burstSizes: quick ? [BURST_SIZES[0]] : BURST_SIZES,
    coldStarts: quick ? 5 : 20,
    suite: !argv.includes("--skip-suite"),
    before: !argv.includes("--skip-before"),
  };
}

const pad = (text: string, width: number) => (text.length >= width ? `${text} ` : text.padEnd(width));
const ratioText = (value: number | undefined) => (value === undefined ? "—" : value.toFixed(2));

/** Each phase's start with the machine's load then (other work on it shows in the figures). */
const phases: { phase: string; at: string; loadAverage: number[] }[] = [];

function progress(message: string): void {
  const at = new Date().toISOString();
  const loadAverage = os.loadavg().map((load) => Number(load.toFixed(2)));
  phases.push({ phase: message, at, loadAverage });
  process.stderr.write(`[bench ${at.slice(11, 19)}, load ${loadAverage[0]}] ${message}\n`);
}

/**
 * The code under test: HEAD, the files of handler/drill/infra with uncommitted changes, and a digest of those
 * directories' files as they are on disk (others may edit them meanwhile: equal digests, same code).
 */
function gitState(): { commit: string; uncommittedFiles: string[]; codeDigest: string } {
  const root = path.resolve(__dirname, "..");
  const run = (command: string) => execSync(command, { cwd: root, encoding: "utf8", maxBuffer: 1 << 28 });
  try {
    const uncommittedFiles = run("git status --porcelain -- handler drill infra index.ts")
      .split("\n")
      .filter((line) => line.trim() !== "");
    const digest = createHash("sha256");
    const files = run("git ls-files --cached --others --exclude-standard -- handler drill infra index.ts")
      .split("\n")
      .filter((file) => file !== "")
      .sort();
    for (const file of files) {
      digest.update(`${file}\0`);
      if (fs.existsSync(path.join(root, file))) digest.update(fs.readFileSync(path.join(root, file)));
    }
    return {
      commit: run("git rev-parse HEAD").trim(),
      uncommittedFiles,
      codeDigest: digest.digest("hex").slice(0, 12),
    };
  } catch {
    return { commit: "unknown", uncommittedFiles: [], codeDigest: "" };
  }
}

const SIDE_NAMES: Record<ContainmentSide, string> = {
  ours: "ours",
  oursDirect: "ours, direct",
  baseline: "blog flow",
};

function printContainment(result: ContainmentResult, extra: ContainmentResult | undefined): void {
  const typical = (side: ContainmentSide) => typicalSample(result[side].samples);
  console.log(
    `\n1. CONTAINMENT — time scale ${result.timeScale} (simulated = wall), reference web server with ` +
      `${result.networkInterfaces} ENI, median of ${result.repetitions} (first response in the process apart); ` +
      `ours ${isolationMode(true)} (default), ours ${isolationMode(false)} (cutTrackedConnections false)`,
  );
  const row = (label: string, cell: (side: ContainmentSide) => string) =>
    console.log(
      `   ${pad(label, 44)}${CONTAINMENT_SIDES.map((side) => pad(cell(side), 22)).join("")}`.trimEnd(),
    );
  row("", (side) => SIDE_NAMES[side]);
  row("AWS calls on the critical path", (side) => String(typical(side).criticalPathCalls));
  row("handler start -> every ENI isolated", (side) => millis(result[side].medianMs));
  row("  of which inside AWS calls", (side) => millis(typical(side).awsMs));
  row("  of which local (CPU, incident claim)", (side) => millis(typical(side).localMs));
  row("first response in a fresh process", (side) => millis(result.firstInProcess[side].isolatedMs));
  if (extra !== undefined)
    row(`with ${extra.networkInterfaces} ENIs (median of ${extra.repetitions})`, (side) =>
      side === "baseline"
        ? "(primary ENI only)"
        : `${millis(extra[side].medianMs)}, calls: ${typicalSample(extra[side].samples).criticalPathCalls}`,
    );
  for (const side of CONTAINMENT_SIDES) {
    console.log(`   ${SIDE_NAMES[side]}, critical path:`);
    for (const step of typical(side).path) console.log(`     ${step}`);
  }
}

function printEndToEnd(results: readonly EndToEndResult[]): void {
  const first = results[0];
  if (first === undefined) return;
  console.log(
    `\n2. END TO END, ours vs the blog flow — time scale ${first.timeScale}, same simulator, runs alternating, ` +
      `median of ${first.repetitions}; ${REFERENCE_INSTANCE.instanceType}, ${REFERENCE_INSTANCE.rootGiB} GiB root + ` +
      `${REFERENCE_INSTANCE.dataGiB} GiB data, behind a target group`,
  );
  for (const result of results) {
    console.log(`   ${result.scenario}`);
    console.log(`     ${pad("", 48)}${pad("ours", 12)}${pad("blog flow", 12)}ours/blog`);
    for (const name of MILESTONES) {
      const ours = result.ours.medians[name];
      const baseline = result.baseline.medians[name];
      const note = name === "isolated" ? "  (CPU x scale: see 1)" : "";
      console.log(
        `     ${pad(MILESTONE_LABELS[name], 48)}${pad(seconds(ours), 12)}${pad(seconds(baseline), 12)}${ratioText(ratio(ours, baseline))}${note}`,
      );
    }
    const count = (values: boolean[]) => `${values.filter(Boolean).length}/${values.length}`;
    console.log(
      `     ${pad("memory dump written (runs)", 48)}${pad(count(result.ours.memoryDumped), 12)}${count(result.baseline.memoryDumped)}`,
    );
    console.log(
      `     ${pad("evidence volumes on the workstation", 48)}${pad(`${result.ours.volumesOnWorkstation} of ${result.ours.volumes}`, 12)}${result.baseline.volumesOnWorkstation} of ${result.baseline.volumes}`,
    );
    console.log(
      `     ${pad("AWS calls (Step Functions, Lambda apart)", 48)}${pad(String(result.ours.awsCalls), 12)}${result.baseline.awsCalls}`,
    );
    const workflow = result.ours.workflow;
    if (workflow !== undefined) {
      const line = (label: string, value: string) => console.log(`     ${pad(label, 48)}${pad(value, 12)}—`);
      line("Lambda invocations (finding + Task passes)", formatValue(workflow.lambdaInvocations, "count"));
      line("  Wait states entered (no Lambda runs)", formatValue(workflow.waits, "count"));
      line("Lambda billed per incident (simulated)", seconds(workflow.billedSeconds * 1000));
      line("  the finding's invocation", millis(workflow.triggerMs));
      line("  the Tasks (taskSeconds)", seconds(workflow.taskSeconds * 1000));
      line(
        "state transitions (estimate for these waits)",
        `${formatValue(workflow.transitions, "count")} (${formatValue(workflow.estimatedTransitions, "count")})`,
      );
      line(`transitions cost ($${USD_PER_1000_TRANSITIONS} per 1,000)`, usd(workflow.usd));
      line("StartExecution calls", formatValue(workflow.startExecutionCalls, "count"));
    }
    console.log(
      `     ${pad("process CPU per run (wall ms, x scale at most)", 48)}${pad(millis(result.ours.cpuMsMedian), 12)}${millis(result.baseline.cpuMsMedian)}`,
    );
    const failed = [...result.ours.outcomes, ...result.baseline.outcomes].filter(
      (outcome) => outcome !== "completed",
    );
    if (failed.length > 0) console.log(`     NOT COMPLETED: ${failed.join("; ")}`);
  }
}

function printBurst(bursts: readonly BurstResult[]): void {
  if (bursts.length === 0) return;
  console.log(
    `\n3. BURST — N instances flagged at once, one responder (Lambda environment) each, EC2's and Step Functions' ` +
      `documented throttling, ${CALL_LATENCY_MS} ms per call; times from the findings' delivery (cold starts apart: see 4); ` +
      `${isolationMode(true)} unless "direct" (isolation only, cutTrackedConnections false); each finding's ` +
      `invocation starts an execution, whose Tasks run in the same Lambda environments`,
  );
  console.log(
    `   ${pad("", 12)}${pad("isolation (time scale 1)", 62)}| completion (AWS-typical durations, Lambda and Task retries)`,
  );
  console.log(
    `   ${pad("N", 12)}${pad("all isolated", 19)}${pad("median", 9)}${pad("bucket floor", 14)}${pad("throttled", 11)}` +
      `${pad("threw", 9)}| ${pad("all done", 18)}${pad("median", 9)}${pad("scale", 7)}${pad("failures", 10)}` +
      `${pad("DLQ", 5)}${pad("retries", 9)}throttled`,
  );
  // One lane per run: the size with the untrack hop (isolation and completion), then the direct isolation run.
  const lanes = bursts.flatMap(({ size, isolation, completion, directIsolation }) => [
    { label: String(size), size, isolation, completion },
    ...(directIsolation === undefined
      ? []
      : [{ label: `${size} direct`, size, isolation: directIsolation, completion: undefined }]),
  ]);
  for (const { label, size, isolation, completion } of lanes) {
    const isolated =
      isolation.allIsolatedMs !== undefined
        ? seconds(isolation.allIsolatedMs)
        : `${isolation.isolatedWithinWindow}/${size} in ${seconds(isolation.windowMs)}`;
    const isolationCells =
      `   ${pad(label, 12)}${pad(isolated, 19)}${pad(seconds(isolation.medianIsolatedMs), 9)}` +
      `${pad(seconds(isolation.bucketLowerBoundMs), 14)}${pad(String(isolation.throttledCalls), 11)}` +
      `${pad(String(isolation.failedInvocations), 9)}| `;
    if (completion === undefined) {
      console.log(`${isolationCells}(isolation only)`);
      continue;
    }
    const done =
      completion.allDoneMs !== undefined
        ? seconds(completion.allDoneMs)
        : `${completion.completed}/${size} in ${seconds(completion.capMs)}`;
    console.log(
      `${isolationCells}${pad(done, 18)}${pad(seconds(completion.medianDoneMs), 9)}` +
        `${pad(`x${completion.timeScale}`, 7)}${pad(String(completion.failures), 10)}${pad(String(completion.deadLettered), 5)}` +
        `${pad(String(completion.lambdaRetries), 9)}${completion.throttledCalls}`,
    );
  }
  console.log(
    "   load (simulator's event loop p99 / max; responders' CPU in the 2 worker processes per wall second):",
  );
  const describe = (run: BurstIsolation | BurstCompletion) => {
    const slow = run.load.requestsOver15s + run.respondersRequestsOver15s;
    return (
      `loop ${millis(run.load.eventLoopDelayP99Ms)} / ${millis(run.load.eventLoopDelayMaxMs)}, responders ` +
      `${(run.respondersCpuMs / run.load.wallMs).toFixed(2)} CPU-s/s` +
      (slow > 0 ? `, ${slow} requests over 15 s` : "")
    );
  };
  for (const { label, isolation, completion } of lanes)
    console.log(
      `   ${pad(label, 12)}isolation: ${describe(isolation)}` +
        (completion === undefined ? "" : `; completion: ${describe(completion)}`),
    );
  console.log(
    "   time in the allow-all untrack group per ENI (simulated; from the move in to the next group change), and when the ENIs entered it:",
  );
  for (const { label, isolation } of lanes)
    if (isolation.untrackStay !== undefined)
      console.log(
        `   ${pad(label, 12)}median ${seconds(isolation.untrackStay.medianMs)}, max ` +
          `${seconds(isolation.untrackStay.maxMs)} (${isolation.untrackStay.count} stays); entered at median ` +
          `${seconds(isolation.untrackEntry?.medianMs)}, last at ${seconds(isolation.untrackEntry?.maxMs)}`,
      );
  const first = lanes[0]?.isolation.startExecution;
  if (first !== undefined)
    console.log(
      `   Step Functions: StartExecution against its documented bucket (${first.bucket.capacity}, refill ` +
        `${first.bucket.refillPerSecond}/s in this Region; floor max(0, N - ${first.bucket.capacity}) / ` +
        `${first.bucket.refillPerSecond} s); the completion runs' executions, per incident (median) and in all:`,
    );
  const startExecution = (figures: BurstIsolation["startExecution"]) =>
    `StartExecution ${figures.calls} calls, ${figures.throttled} throttled, floor ${seconds(figures.bucketFloorMs)}, ` +
    `last answered at ${seconds(figures.lastAnsweredMs)}`;
  for (const { label, isolation, completion } of lanes) {
    console.log(
      `   ${pad(label, 12)}isolation: ${startExecution(isolation.startExecution)}; ${isolation.taskInvocations} Task ` +
        `invocations in the window, ${isolation.executionsStopped} executions stopped at its end`,
    );
    if (completion === undefined) continue;
    const executions = completion.executions;
    const statuses = Object.entries(executions.statuses)
      .map(([status, count]) => `${count} ${status}`)
      .join(", ");
    console.log(
      `   ${pad("", 12)}completion: ${startExecution(completion.startExecution)}; executions: ${statuses}; ` +
        `per incident ${formatValue(executions.transitionsMedian, "count")} transitions ` +
        `(${usd(executions.usdMedian)}), ${formatValue(executions.taskPassesMedian, "count")} Task passes; in all ` +
        `${executions.transitionsTotal} transitions (${usd(executions.usdTotal)}), ${executions.failedTasks} failed Tasks`,
    );
    console.log(
      `   ${pad("", 12)}completion: memory dumps ${completion.memoryDumped}/${label.split(" ")[0]}, ` +
        `${completion.withOtherProblems} with a problem other than the replacement's profile; Lambda billed per ` +
        `incident (median, simulated: the SDK's back-off and CPU x ${completion.timeScale}) ` +
        `${seconds(executions.billedSecondsMedian * 1000)}`,
    );
  }
  for (const { label, completion } of lanes)
    for (const problem of completion?.problemSamples ?? [])
      console.log(`   ${pad(label, 12)}problem: ${problem}`);
  const errors = [
    ...new Set(
      lanes.flatMap(({ isolation, completion }) => [
        ...isolation.errorSamples,
        ...(completion?.errorSamples ?? []),
      ]),
    ),
  ];
  if (errors.length > 0) {
    console.log("   what the invocations that threw said (Lambda retries those a minute later):");
    for (const error of errors.slice(0, 6)) console.log(`     ${error}`);
  }
}

function printArtifact(artifact: ArtifactResult): void {
  console.log(`\n4. LAMBDA ARTIFACT — as Pulumi builds it from ${artifact.stackFile} (mock run)`);
  console.log(
    `   zipped ${artifact.zippedBytes.toLocaleString("en")} bytes (${(artifact.zippedBytes / 1000).toFixed(1)} kB), ` +
      `unzipped ${artifact.unzippedBytes.toLocaleString("en")} bytes in ${artifact.files} files; bundled: ${artifact.bundledPackages.join(", ")}`,
  );
  console.log(
    `   cold init (load + factory) in ${artifact.coldInit.samples} fresh processes: median ${millis(artifact.coldInit.medianMs)} ` +
      `(min ${millis(artifact.coldInit.minMs)}, max ${millis(artifact.coldInit.maxMs)}); process start to first answer: ` +
      `median ${millis(artifact.coldInit.medianFirstAnswerMs)} (wall clock, this machine)`,
  );
}

function printSuite(suite: SuiteResult | undefined): void {
  console.log(`\n5. TEST SUITE`);
  if (suite === undefined) {
    console.log("   not run (--skip-suite)");
    return;
  }
  console.log(
    `   npm test: ${suite.passed ?? "?"} passed, ${suite.failed ?? "?"} failed, exit ${suite.exitCode}; ` +
      `wall ${seconds(suite.wallMs)} (mocha's own: ${suite.mochaDuration ?? "?"})`,
  );
}

const BEFORE_PHASE_LABELS = {
  responses: "critical path and end to end",
  burst: "burst",
} as const;

function printBeforeAfter(before: Before, rows: readonly Comparison[]): void {
  console.log(
    `\n6. BEFORE AND AFTER (issue 12) — before: ${before.commit.slice(0, 7)}, the whole response inside the ` +
      `responder Lambda (lease, self-invoked continuations, time budget); after: this code, a Step Functions ` +
      `Standard workflow that invokes the Lambda once per step pass (waits in Wait states)`,
  );
  for (const [phase, label] of Object.entries(BEFORE_PHASE_LABELS))
    console.log(
      `   ${pad(`${label}:`, 32)}${before.sources[phase as keyof typeof BEFORE_PHASE_LABELS] ?? "not measured"}`,
    );
  if (before.directory !== undefined)
    console.log(`   old tree: ${path.relative(path.resolve(__dirname, ".."), before.directory)}`);
  for (const error of before.errors) console.log(`   NOTE: ${error}`);
  let group: string | undefined;
  for (const entry of rows) {
    if (entry.group !== group) {
      group = entry.group;
      console.log(`   ${group}`);
      console.log(
        `     ${pad("", 50)}${pad("before", 12)}${pad("after", 12)}${pad("after/before", 14)}target`,
      );
    }
    const target =
      entry.target === undefined
        ? ""
        : `${entry.target.met === undefined ? "?" : entry.target.met ? "met" : "NOT MET"} (${entry.target.text})`;
    console.log(
      `     ${pad(entry.figure, 50)}${pad(formatValue(entry.before, entry.unit), 12)}` +
        `${pad(formatValue(entry.after, entry.unit), 12)}${pad(ratioText(entry.ratio), 14)}${target}`.trimEnd(),
    );
    if (entry.note !== undefined) console.log(`       (${entry.note})`);
  }
}

interface Target {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean | undefined;
}

function targets(
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

async function main(): Promise<void> {
  const chosen = plan(process.argv.slice(2));
  const startedAt = new Date();
  const wall = performance.now();
  const git = gitState();
  const before = startBefore(chosen.before);
  const beforePhase = async (phase: "responses" | "burst", options: object) => {
    if (chosen.before) progress(`before (${before.commit.slice(0, 7)}, its own bench code): ${phase}`);
    await measureBeforePhase(before, phase, options);
  };
  progress(`containment at time scale 1 (${chosen.containmentRepetitions} repetitions)`);
  const containment = await measureContainment(chosen.containmentRepetitions, 1);
  const containmentThreeEnis = await measureContainment(
    Math.max(3, Math.floor(chosen.containmentRepetitions / 2)),
    3,
  );
  const endToEnd: EndToEndResult[] = [];
  const cpuCheckScale = TIME_SCALES.endToEndCpuCheck;
  for (const kdumpReady of [true, false]) {
    progress(
      `end to end, ${kdumpReady ? "kdump-ready" : "no kdump"} (${chosen.endToEndRepetitions} repetitions)`,
    );
    endToEnd.push(await measureEndToEnd(kdumpReady, chosen.endToEndRepetitions));
  }
  progress(`end to end, ours alone, no kdump, at scale ${cpuCheckScale} (the CPU check)`);
  const cpuCheck = await measureOursAtScale(false, chosen.endToEndRepetitions, cpuCheckScale);
  // The old engine's containment and end-to-end runs, in one process as its own bench ran them.
  await beforePhase("responses", {
    containmentRepetitions: chosen.containmentRepetitions,
    endToEndRepetitions: chosen.endToEndRepetitions,
    cpuCheckScale,
  });
  const bursts: BurstResult[] = [];
  for (const size of chosen.burstSizes) {
    const isolationRun = (cutTrackedConnections: boolean) => {
      progress(
        `burst of ${size}, ${isolationMode(cutTrackedConnections)}: isolation window ` +
          `${BURST_ISOLATION_WINDOWS_MS[size]! / 1000} s at scale 1`,
      );
      return measureBurstIsolation(size, BURST_ISOLATION_WINDOWS_MS[size]!, cutTrackedConnections);
    };
    const isolation = await isolationRun(true);
    progress(`burst of ${size}: until all are done, at scale ${BURST_COMPLETION_SCALES[size]}`);
    const completion = await measureBurstCompletion(
      size,
      BURST_COMPLETION_SCALES[size]!,
      BURST_COMPLETION_CAP_MS,
    );
    // The direct mode's isolation lane: for the largest burst of the run (100, or 10 with --quick).
    const directIsolation = size === chosen.burstSizes.at(-1) ? await isolationRun(false) : undefined;
    bursts.push({ size, isolation, completion, directIsolation });
  }
  stopBurstWorkers();
  const largest = chosen.burstSizes.at(-1)!;
  await beforePhase("burst", {
    burstSize: largest,
    isolationWindowMs: BURST_ISOLATION_WINDOWS_MS[largest],
    completionScale: BURST_COMPLETION_SCALES[largest],
    completionCapMs: BURST_COMPLETION_CAP_MS,
  });
  await stopDynamo();
  progress(`Lambda artifact: size, ${chosen.coldStarts} cold starts`);
  const artifact = await measureArtifact(chosen.coldStarts);
  let suite: SuiteResult | undefined;
  if (chosen.suite) {
    progress("test suite (npm test)");
    suite = await runTestSuite();
  }

  const gitAtEnd = gitState();
  console.log(
    `\nEC2 INCIDENT RESPONSE — BENCHMARK (${startedAt.toISOString()}, ${os.cpus().length} CPUs, load ${os
      .loadavg()
      .map((load) => load.toFixed(1))
      .join(" ")})`,
  );
  console.log(
    `latency model: ${CALL_LATENCY_MS} ms per AWS call (no jitter; DynamoDB on local dynalite through the simulator's front, latency not modelled); ` +
      `AWS-typical state durations (simulator defaults); EC2's and Step Functions' documented throttling on`,
  );
  console.log(
    `IAM: ${iamTotals.evaluated} requests evaluated against the stack's synthesized policies, ${iamTotals.denied} denied` +
      (before.results.iam === undefined || Object.keys(before.phaseWallMs).length === 0
        ? ""
        : `; before (${before.commit.slice(0, 7)}, this run): ${before.results.iam.evaluated} evaluated, ${before.results.iam.denied} denied`),
  );
  if (git.uncommittedFiles.length > 0)
    console.log(
      `code: ${git.commit.slice(0, 10)} + uncommitted changes in ${git.uncommittedFiles.length} file(s) of handler/drill/infra`,
    );
  else console.log(`code: ${git.commit.slice(0, 10)}`);
  if (gitAtEnd.codeDigest !== git.codeDigest)
    console.log(
      `NOTE: the code under test (handler/drill/infra) changed during the run: HEAD ${git.commit.slice(0, 10)} ` +
        `at the start, ${gitAtEnd.commit.slice(0, 10)} at the end (code digests ${git.codeDigest}, ` +
        `${gitAtEnd.codeDigest}); a phase may have measured either`,
    );
  printContainment(containment, containmentThreeEnis);
  printEndToEnd(endToEnd);
  printBurst(bursts);
  printArtifact(artifact);
  printSuite(suite);
  const comparisons = beforeAfter(before, {
    containment,
    containmentThreeEnis,
    endToEnd,
    cpuCheck,
    bursts,
  });
  printBeforeAfter(before, comparisons);
  const goals = targets(containment, endToEnd, bursts, artifact, comparisons);
  console.log("\nTARGETS");
  for (const goal of goals)
    console.log(
      `   ${pad(goal.met === undefined ? "?" : goal.met ? "met" : "NOT MET", 9)}${pad(goal.target, 66)}${goal.measured}`,
    );
  const totalMs = performance.now() - wall;
  // Only a full run (every repetition, every burst, the suite, the old engine) replaces the committed results.
  const full = !process.argv.includes("--quick") && chosen.suite && chosen.before;
  console.log(
    `\nbench wall time ${seconds(totalMs)}; results in bench/results/` +
      `${full ? "latest" : "partial"}.json`,
  );

  const results = {
    generatedAt: startedAt.toISOString(),
    benchWallMs: totalMs,
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model,
      loadAverageAtEnd: os.loadavg(),
      node: process.version,
    },
    code: { ...git, atEnd: gitAtEnd },
    phases,
    latencyModel: latencyModelDescription(),
    iam: iamTotals,
    plan: chosen,
    containment: { oneEni: containment, threeEnis: containmentThreeEnis },
    endToEnd,
    endToEndCpuCheck: cpuCheck,
    burst: bursts,
    artifact,
    testSuite: suite ?? null,
    before,
    beforeAfter: comparisons,
    stepFunctionsPricing: {
      usdPer1000Transitions: USD_PER_1000_TRANSITIONS,
      source: "infra/workflowTransitions.ts",
    },
    targets: goals,
  };
  const file = path.join(__dirname, "results", full ? "latest.json" : "partial.json");
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
