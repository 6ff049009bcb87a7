// `npm run bench`: every figure measured in this run, printed side by side and written to
// bench/results/latest.json with the latency model and the time scale of each figure (bench/README.md). The old
// engine (bench/model.ts BEFORE_COMMIT) is measured in the same run by its own bench code (bench/before.ts), each
// phase right after the same phase of today's code, and the two are printed side by side (issue 12).
//   --skip-suite   do not run the test suite (its figure is then reported as not measured)
//   --skip-before  do not run the old engine: its recorded results stand in, labelled as such
//   --quick        fewer repetitions and only the smallest burst (for working on the benchmark itself)
//   --only-org-burst  only the organisation-wide burst (ORG_WIDE_BURST at once, issue 14): its section and targets
//   --org-burst-size=N  that burst with N instances instead (for working on the benchmark itself)
// Runs with any option write bench/results/partial.json instead of latest.json.
import { execSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { stopDynamo } from "../testkit/harness";
import { measureArtifact } from "./artifact";
import { measureBeforePhase, startBefore } from "./before";
import { beforeAfter } from "./beforeAfter";
import { measureBurstCompletion, measureBurstIsolation, stopBurstWorkers, type BurstResult } from "./burst";
import { measureAsFound } from "./asFound";
import { measureBurstAsFound, type BurstAsFound } from "./burstAsFound";
import { measureContainment } from "./containment";
import { measureEndToEnd, measureOursAtScale, type EndToEndResult } from "./endToEnd";
import {
  BURST_COMPLETION_CAP_MS,
  BURST_COMPLETION_SCALES,
  BURST_ISOLATION_WINDOWS_MS,
  BURST_SIZES,
  CALL_LATENCY_MS,
  ORG_WIDE_BURST,
  ORG_WIDE_BURST_WINDOW_MS,
  TIME_SCALES,
  isolationMode,
  latencyModelDescription,
} from "./model";
import { seconds } from "./stats";
import { iamTotals } from "./scenario";
import {
  printArtifact,
  printBeforeAfter,
  printBurst,
  printContainment,
  printEndToEnd,
  printSuite,
  printTargets,
} from "./printResults";
import { asFoundTargets, orgBurstTargets, printAsFound, printOrgBurst } from "./printAsFound";
import { targets } from "./targets";
import { runTestSuite, type SuiteResult } from "./testSuite";
import { USD_PER_1000_TRANSITIONS } from "./workflowFigures";

interface Plan {
  readonly containmentRepetitions: number;
  readonly endToEndRepetitions: number;
  readonly burstSizes: readonly number[];
  readonly coldStarts: number;
  readonly suite: boolean;
  /** Measure the old engine in this run (else its recorded results stand in). */
  readonly before: boolean;
  /** The organisation-wide burst (issue 14); not with --quick. */
  readonly orgBurst: boolean;
  /** Nothing but the organisation-wide burst. */
  readonly orgBurstOnly: boolean;
  readonly orgBurstSize: number;
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
    orgBurst: !quick,
    orgBurstOnly: argv.includes("--only-org-burst"),
    orgBurstSize: sizeOption(argv, "--org-burst-size=") ?? ORG_WIDE_BURST,
  };
}

function sizeOption(argv: readonly string[], prefix: string): number | undefined {
  const option = argv.find((arg) => arg.startsWith(prefix));
  if (option === undefined) return undefined;
  const size = Number(option.slice(prefix.length));
  if (!Number.isInteger(size) || size < 1)
    throw new Error(`${option}: a whole number of instances, at least 1`);
  return size;
}

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

function measureOrgBurst(size: number): Promise<BurstAsFound> {
  progress(
    `burst of ${size} (organisation-wide), with the untrack hop: until every as-found set is ` +
      `requested (at most ${ORG_WIDE_BURST_WINDOW_MS / 1000} s at scale 1)`,
  );
  return measureBurstAsFound(size, ORG_WIDE_BURST_WINDOW_MS);
}

/** --only-org-burst: the organisation-wide burst alone, its section and targets, into partial.json. */
async function orgBurstOnly(size: number): Promise<void> {
  const orgBurst = await measureOrgBurst(size);
  stopBurstWorkers();
  await stopDynamo();
  printOrgBurst(orgBurst);
  const goals = orgBurstTargets(orgBurst);
  printTargets(goals);
  const file = path.join(__dirname, "results", "partial.json");
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const results = {
    generatedAt: new Date().toISOString(),
    code: gitState(),
    phases,
    orgBurst,
    targets: goals,
  };
  fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
}

async function main(): Promise<void> {
  const chosen = plan(process.argv.slice(2));
  if (chosen.orgBurstOnly) return orgBurstOnly(chosen.orgBurstSize);
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
  progress(`disk evidence as found at time scale 1 (${chosen.containmentRepetitions} repetitions each)`);
  const asFound = await measureAsFound(chosen.containmentRepetitions);
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
  const orgBurst = chosen.orgBurst ? await measureOrgBurst(chosen.orgBurstSize) : undefined;
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
  printAsFound(asFound);
  printEndToEnd(endToEnd);
  printBurst(bursts);
  printOrgBurst(orgBurst);
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
  const goals = [
    ...targets(containment, endToEnd, bursts, artifact, comparisons),
    ...asFoundTargets(asFound, endToEnd),
    ...orgBurstTargets(orgBurst),
  ];
  printTargets(goals);
  const totalMs = performance.now() - wall;
  // Only a full run (every repetition, every burst, the suite, the old engine) replaces the committed results.
  const full =
    !process.argv.includes("--quick") &&
    chosen.suite &&
    chosen.before &&
    chosen.orgBurstSize === ORG_WIDE_BURST;
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
    asFound,
    endToEnd,
    endToEndCpuCheck: cpuCheck,
    burst: bursts,
    orgBurst: orgBurst ?? null,
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
