// The bench's console report: one section per measurement, then the before/after table and the targets, from
// what the measurements returned (bench/run.ts measures and writes bench/results/).
import * as path from "path";

import type { ArtifactResult } from "./artifact";
import type { Before } from "./before";
import { MILESTONE_LABELS, formatValue, typicalSample, type Comparison } from "./beforeAfter";
import type { BurstCompletion, BurstIsolation, BurstResult } from "./burst";
import { CONTAINMENT_SIDES, type ContainmentResult, type ContainmentSide } from "./containment";
import { MILESTONES, type EndToEndResult, type MilestoneName } from "./endToEnd";
import { CALL_LATENCY_MS, REFERENCE_INSTANCE, isolationMode } from "./model";
import { millis, ratio, seconds } from "./stats";
import type { Target } from "./targets";
import type { SuiteResult } from "./testSuite";
import { USD_PER_1000_TRANSITIONS, usd } from "./workflowFigures";

const pad = (text: string, width: number) => (text.length >= width ? `${text} ` : text.padEnd(width));
export const ratioText = (value: number | undefined) => (value === undefined ? "—" : value.toFixed(2));

const SIDE_NAMES: Record<ContainmentSide, string> = {
  ours: "ours",
  oursDirect: "ours, direct",
  baseline: "blog flow",
};

export function printContainment(result: ContainmentResult, extra: ContainmentResult | undefined): void {
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

const MILESTONE_NOTES: Partial<Record<MilestoneName, string>> = {
  isolated: "CPU x scale: see 1",
  asFoundSecured: "locked too; CPU x scale: see 1b; blog flow: its first snapshot",
  memoryCaptured: "the simulator's kdump model, measured in the kdump VM proof",
};

export function printEndToEnd(results: readonly EndToEndResult[]): void {
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
      const note = MILESTONE_NOTES[name] === undefined ? "" : `  (${MILESTONE_NOTES[name]})`;
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

export function printBurst(bursts: readonly BurstResult[]): void {
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

export function printArtifact(artifact: ArtifactResult): void {
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

export function printSuite(suite: SuiteResult | undefined): void {
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

export function printBeforeAfter(before: Before, rows: readonly Comparison[]): void {
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

export function printTargets(goals: readonly Target[]): void {
  console.log("\nTARGETS");
  for (const goal of goals)
    console.log(
      `   ${pad(goal.met === undefined ? "?" : goal.met ? "met" : "NOT MET", 9)}${pad(goal.target, 66)}${goal.measured}`,
    );
}
