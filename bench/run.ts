// `npm run bench`: every figure measured in this run, printed side by side and written to
// bench/results/latest.json with the latency model and the time scale of each figure (bench/README.md).
//   --skip-suite   do not run the test suite (its figure is then reported as not measured)
//   --quick        fewer repetitions and only the smallest burst (for working on the benchmark itself)
// Runs with either option write bench/results/partial.json instead of latest.json.
import { execSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { stopDynamo } from "../test/handler/harness";
import { measureArtifact, type ArtifactResult } from "./artifact";
import {
  bucketLowerBoundMs,
  measureBurstCompletion,
  measureBurstIsolation,
  stopBurstWorkers,
  type BurstCompletion,
  type BurstIsolation,
} from "./burst";
import { measureContainment, type ContainmentResult } from "./containment";
import { MILESTONES, measureEndToEnd, type EndToEndResult, type MilestoneName } from "./endToEnd";
import {
  BURST_COMPLETION_CAP_MS,
  BURST_COMPLETION_SCALES,
  BURST_ISOLATION_WINDOWS_MS,
  BURST_SIZES,
  CALL_LATENCY_MS,
  REFERENCE_INSTANCE,
  latencyModelDescription,
} from "./model";
import { millis, ratio, seconds } from "./stats";
import { runTestSuite, type SuiteResult } from "./testSuite";

interface Plan {
  readonly containmentRepetitions: number;
  readonly endToEndRepetitions: number;
  readonly burstSizes: readonly number[];
  readonly coldStarts: number;
  readonly suite: boolean;
}

function plan(argv: readonly string[]): Plan {
  const quick = argv.includes("--quick");
  return {
    containmentRepetitions: quick ? 3 : 5,
    endToEndRepetitions: quick ? 1 : 3,
    burstSizes: quick ? [BURST_SIZES[0]] : BURST_SIZES,
    coldStarts: quick ? 5 : 20,
    suite: !argv.includes("--skip-suite"),
  };
}

const MILESTONE_LABELS: Record<MilestoneName, string> = {
  isolated: "every ENI isolated",
  evidenceSecured: "evidence secured (snapshots requested)",
  workstationReady: "forensic workstation ready (volumes attached)",
  serviceRestored: "service restored (replacement healthy)",
  complete: "end to end (last call of the response)",
};

const pad = (text: string, width: number) => (text.length >= width ? `${text} ` : text.padEnd(width));
const ratioText = (value: number | undefined) => (value === undefined ? "—" : value.toFixed(2));

function progress(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

function gitState(): { commit: string; uncommittedFiles: string[] } {
  const run = (command: string) =>
    execSync(command, { cwd: path.resolve(__dirname, ".."), encoding: "utf8" });
  try {
    return {
      commit: run("git rev-parse HEAD").trim(),
      uncommittedFiles: run("git status --porcelain -- handler drill infra index.ts")
        .split("\n")
        .filter((line) => line.trim() !== ""),
    };
  } catch {
    return { commit: "unknown", uncommittedFiles: [] };
  }
}

function printContainment(result: ContainmentResult, extra: ContainmentResult | undefined): void {
  const ours = result.ours.samples;
  const baseline = result.baseline.samples;
  const middle = (samples: typeof ours) =>
    [...samples].sort((a, b) => a.isolatedMs - b.isolatedMs)[Math.floor(samples.length / 2)]!;
  const oursTypical = middle(ours);
  const baselineTypical = middle(baseline);
  console.log(
    `\n1. CONTAINMENT — time scale ${result.timeScale} (simulated = wall), reference web server with ` +
      `${result.networkInterfaces} ENI, median of ${result.repetitions} (first response in the process apart)`,
  );
  console.log(`   ${pad("", 44)}${pad("ours", 26)}blog flow`);
  const row = (label: string, a: string, b: string) => console.log(`   ${pad(label, 44)}${pad(a, 26)}${b}`);
  row(
    "AWS calls on the critical path",
    String(oursTypical.criticalPathCalls),
    String(baselineTypical.criticalPathCalls),
  );
  row("handler start -> every ENI isolated", millis(result.ours.medianMs), millis(result.baseline.medianMs));
  row("  of which inside AWS calls", millis(oursTypical.awsMs), millis(baselineTypical.awsMs));
  row("  of which local (CPU, incident claim)", millis(oursTypical.localMs), millis(baselineTypical.localMs));
  row(
    "first response in a fresh process",
    millis(result.firstInProcess.ours.isolatedMs),
    millis(result.firstInProcess.baseline.isolatedMs),
  );
  if (extra !== undefined)
    row(
      `ours with ${extra.networkInterfaces} ENIs (median of ${extra.repetitions})`,
      `${millis(extra.ours.medianMs)}, ${extra.ours.samples[0]?.criticalPathCalls ?? "?"} calls on the path`,
      "",
    );
  console.log(`   ours, critical path:`);
  for (const step of oursTypical.path) console.log(`     ${step}`);
  console.log(`   blog flow, critical path:`);
  for (const step of baselineTypical.path) console.log(`     ${step}`);
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
      `     ${pad("AWS calls", 48)}${pad(String(result.ours.awsCalls), 12)}${result.baseline.awsCalls}`,
    );
    console.log(
      `     ${pad("process CPU per run (wall ms, x scale at most)", 48)}${pad(millis(result.ours.cpuMsMedian), 12)}${millis(result.baseline.cpuMsMedian)}`,
    );
    const failed = [...result.ours.outcomes, ...result.baseline.outcomes].filter(
      (outcome) => outcome !== "completed",
    );
    if (failed.length > 0) console.log(`     NOT COMPLETED: ${failed.join("; ")}`);
  }
}

function printBurst(
  bursts: readonly { size: number; isolation: BurstIsolation; completion: BurstCompletion }[],
): void {
  if (bursts.length === 0) return;
  console.log(
    `\n3. BURST — N instances flagged at once, one responder (Lambda environment) each, EC2's documented ` +
      `throttling, ${CALL_LATENCY_MS} ms per call; times from the findings' delivery (cold starts apart: see 4)`,
  );
  console.log(
    `   ${pad("", 5)}${pad("isolation (time scale 1)", 62)}| completion (AWS-typical durations, Lambda retries)`,
  );
  console.log(
    `   ${pad("N", 5)}${pad("all isolated", 19)}${pad("median", 9)}${pad("bucket floor", 14)}${pad("throttled", 11)}` +
      `${pad("threw", 9)}| ${pad("all done", 18)}${pad("median", 9)}${pad("scale", 7)}${pad("failures", 10)}` +
      `${pad("DLQ", 5)}${pad("retries", 9)}throttled`,
  );
  for (const { size, isolation, completion } of bursts) {
    const isolated =
      isolation.allIsolatedMs !== undefined
        ? seconds(isolation.allIsolatedMs)
        : `${isolation.isolatedWithinWindow}/${size} in ${seconds(isolation.windowMs)}`;
    const done =
      completion.allDoneMs !== undefined
        ? seconds(completion.allDoneMs)
        : `${completion.completed}/${size} in ${seconds(completion.capMs)}`;
    console.log(
      `   ${pad(String(size), 5)}${pad(isolated, 19)}${pad(seconds(isolation.medianIsolatedMs), 9)}` +
        `${pad(seconds(isolation.bucketLowerBoundMs), 14)}${pad(String(isolation.throttledCalls), 11)}` +
        `${pad(String(isolation.failedInvocations), 9)}| ${pad(done, 18)}${pad(seconds(completion.medianDoneMs), 9)}` +
        `${pad(`x${completion.timeScale}`, 7)}${pad(String(completion.failures), 10)}${pad(String(completion.deadLettered), 5)}` +
        `${pad(String(completion.lambdaRetries), 9)}${completion.throttledCalls}`,
    );
  }
  console.log(
    "   load (simulator's event loop p99 / max; responders' CPU in the 2 worker processes per wall second):",
  );
  for (const { size, isolation, completion } of bursts) {
    const describe = (run: BurstIsolation | BurstCompletion) => {
      const slow = run.load.requestsOver15s + run.respondersRequestsOver15s;
      return (
        `loop ${millis(run.load.eventLoopDelayP99Ms)} / ${millis(run.load.eventLoopDelayMaxMs)}, responders ` +
        `${(run.respondersCpuMs / run.load.wallMs).toFixed(2)} CPU-s/s` +
        (slow > 0 ? `, ${slow} requests over 15 s` : "")
      );
    };
    console.log(
      `   ${pad(String(size), 5)}isolation: ${describe(isolation)}; completion: ${describe(completion)}`,
    );
  }
  const errors = [
    ...new Set(
      bursts.flatMap(({ isolation, completion }) => [...isolation.errorSamples, ...completion.errorSamples]),
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

interface Target {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean | undefined;
}

function targets(
  containment: ContainmentResult,
  endToEnd: readonly EndToEndResult[],
  bursts: readonly { size: number; isolation: BurstIsolation; completion: BurstCompletion }[],
  artifact: ArtifactResult,
): Target[] {
  const calls = containment.ours.samples[0]?.criticalPathCalls ?? 0;
  const list: Target[] = [
    {
      target: "2 sequential AWS calls to isolation (with the untrack hop)",
      measured: `${calls} (${containment.ours.samples[0]?.path.map((step) => step.split(" ")[0]).join(" -> ")})`,
      met: calls <= 2,
    },
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
  if (hundred !== undefined) {
    const allIsolated = hundred.isolation.allIsolatedMs;
    list.push({
      target: "100 instances isolated within 10 s simulated",
      measured:
        allIsolated === undefined
          ? `${hundred.isolation.isolatedWithinWindow}/100 within ${seconds(hundred.isolation.windowMs)}`
          : `${seconds(allIsolated)} (the documented buckets alone allow no less than ${seconds(bucketLowerBoundMs(100))})`,
      met: allIsolated !== undefined && allIsolated <= 10_000,
    });
  }
  const failures = bursts.reduce((sum, burst) => sum + burst.completion.failures, 0);
  if (bursts.length > 0)
    list.push({ target: "zero failures in the bursts", measured: String(failures), met: failures === 0 });
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
  progress(`containment at time scale 1 (${chosen.containmentRepetitions} repetitions)`);
  const containment = await measureContainment(chosen.containmentRepetitions, 1);
  const containmentThreeEnis = await measureContainment(
    Math.max(3, Math.floor(chosen.containmentRepetitions / 2)),
    3,
  );
  const endToEnd: EndToEndResult[] = [];
  for (const kdumpReady of [true, false]) {
    progress(
      `end to end, ${kdumpReady ? "kdump-ready" : "no kdump"} (${chosen.endToEndRepetitions} repetitions)`,
    );
    endToEnd.push(await measureEndToEnd(kdumpReady, chosen.endToEndRepetitions));
  }
  const bursts: { size: number; isolation: BurstIsolation; completion: BurstCompletion }[] = [];
  for (const size of chosen.burstSizes) {
    progress(`burst of ${size}: isolation window ${BURST_ISOLATION_WINDOWS_MS[size]! / 1000} s at scale 1`);
    const isolation = await measureBurstIsolation(size, BURST_ISOLATION_WINDOWS_MS[size]!);
    progress(`burst of ${size}: until all are done, at scale ${BURST_COMPLETION_SCALES[size]}`);
    const completion = await measureBurstCompletion(
      size,
      BURST_COMPLETION_SCALES[size]!,
      BURST_COMPLETION_CAP_MS,
    );
    bursts.push({ size, isolation, completion });
  }
  stopBurstWorkers();
  await stopDynamo();
  progress(`Lambda artifact: size, ${chosen.coldStarts} cold starts`);
  const artifact = await measureArtifact(chosen.coldStarts);
  let suite: SuiteResult | undefined;
  if (chosen.suite) {
    progress("test suite (npm test)");
    suite = await runTestSuite();
  }

  console.log(
    `\nEC2 INCIDENT RESPONSE — BENCHMARK (${startedAt.toISOString()}, ${os.cpus().length} CPUs, load ${os
      .loadavg()
      .map((load) => load.toFixed(1))
      .join(" ")})`,
  );
  console.log(
    `latency model: ${CALL_LATENCY_MS} ms per AWS call (no jitter; DynamoDB on local dynalite, not modelled); ` +
      `AWS-typical state durations (simulator defaults); EC2 documented throttling on`,
  );
  if (git.uncommittedFiles.length > 0)
    console.log(
      `code: ${git.commit.slice(0, 10)} + uncommitted changes in ${git.uncommittedFiles.length} file(s) of handler/drill/infra`,
    );
  else console.log(`code: ${git.commit.slice(0, 10)}`);
  printContainment(containment, containmentThreeEnis);
  printEndToEnd(endToEnd);
  printBurst(bursts);
  printArtifact(artifact);
  printSuite(suite);
  const goals = targets(containment, endToEnd, bursts, artifact);
  console.log("\nTARGETS");
  for (const goal of goals)
    console.log(
      `   ${pad(goal.met === undefined ? "?" : goal.met ? "met" : "NOT MET", 9)}${pad(goal.target, 66)}${goal.measured}`,
    );
  const totalMs = performance.now() - wall;
  console.log(
    `\nbench wall time ${seconds(totalMs)}; results in bench/results/` +
      `${!process.argv.includes("--quick") && chosen.suite ? "latest" : "partial"}.json`,
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
    code: git,
    latencyModel: latencyModelDescription(),
    plan: chosen,
    containment: { oneEni: containment, threeEnis: containmentThreeEnis },
    endToEnd,
    burst: bursts,
    artifact,
    testSuite: suite ?? null,
    targets: goals,
  };
  // Only a full run (every repetition, every burst, the suite) replaces the committed results.
  const full = !process.argv.includes("--quick") && chosen.suite;
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
