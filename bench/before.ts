// The "before" side of issue 12's measurement: the old engine (the response inside the responder Lambda, commit
// BEFORE_COMMIT) measured by its own bench code in the same `npm run bench`, on the same machine, right after the
// same measurement of today's code. The commit is extracted with `git archive` into
// node_modules/.cache/bench-baseline/<commit> (node_modules is gitignored; the repository's git state is not
// touched), the repository's node_modules is linked into it (Pulumi's closure serialization looks for the
// packages beside the program), bench/baselineDriver.ts is copied in, and each phase runs in a child process with
// that tree's working directory (ts-node then reads that tree's tsconfig). When the tree cannot run, the old
// commit's recorded results (its bench/results/latest.json) stand in, labelled as such.
import { execFileSync, execSync, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";

import type { BurstCompletion, BurstIsolation } from "./burst";
import type { ContainmentResult } from "./containment";
import type { EndToEndResult } from "./endToEnd";
import type { ResponseRun } from "./responseRuns";
import { RESULT_MARKER, type DriverOptions } from "./baselineDriver";
import { BEFORE_COMMIT } from "./model";

const ROOT = path.resolve(__dirname, "..");

/** The environment the bench started with (harnesses change process.env while they run). */
const STARTING_ENVIRONMENT = { ...process.env };

/** Old-engine Lambda billing of one incident, measured around its handler (bench/baselineDriver.ts). */
interface IncidentBilling {
  readonly instanceId: string;
  readonly invocations: number;
  readonly continuations: number;
  /** Simulated seconds: wall x the time scale. */
  readonly billedSeconds: number;
}

/** One end-to-end scenario of the old tree, and the billing measured around its handler. */
export interface BeforeEndToEnd {
  result: EndToEndResult;
  billing?: IncidentBilling[];
}

/** The CPU check of the old tree: its runOurs, without kdump, at a lower time scale. */
interface BeforeCpuCheck {
  timeScale: number;
  runs: ResponseRun[];
  billing?: IncidentBilling[];
}

/** The old tree's own results (its types are today's minus what was added since: workflow figures). */
interface BeforeResults {
  containment?: ContainmentResult;
  containmentThreeEnis?: ContainmentResult;
  endToEnd?: BeforeEndToEnd[];
  cpuCheck?: BeforeCpuCheck;
  burst?: {
    size: number;
    isolation: Omit<BurstIsolation, "startExecution" | "executionsStopped" | "taskInvocations">;
    completion: Omit<BurstCompletion, "startExecution" | "executions">;
  };
  iam?: { evaluated: number; denied: number };
}

/** "responses": containment (1 and 3 ENIs) and end to end, in one process; "burst": one size. */
export type BeforePhase = "responses" | "burst";

export interface Before {
  /** The full commit of the old engine. */
  readonly commit: string;
  /** Where the old tree was extracted (undefined: it could not be, or --skip-before). */
  readonly directory?: string;
  readonly results: BeforeResults;
  /** How each phase's figures were obtained: measured in this run, or recorded (and where). */
  readonly sources: Partial<Record<BeforePhase, string>>;
  /** Why the tree or a phase could not run in this run. */
  readonly errors: string[];
  /** Wall ms each phase took in this run. */
  readonly phaseWallMs: Partial<Record<BeforePhase, number>>;
}

/** The old tree, ready to run (or, with `measure` false or when it cannot be extracted, only its records). */
export function startBefore(measure: boolean): Before {
  const before: Before = {
    commit: BEFORE_COMMIT,
    results: {},
    sources: {},
    errors: measure ? [] : ["not measured in this run (--skip-before)"],
    phaseWallMs: {},
  };
  if (!measure) return before;
  try {
    const { commit, directory } = prepareBeforeTree();
    return { ...before, commit, directory };
  } catch (error) {
    before.errors.push(`the old tree could not be extracted: ${String(error)}`);
    return before;
  }
}

const MEASURED = `measured in this run by ${BEFORE_COMMIT}'s own bench code (child process)`;

/** Measures one phase with the old tree's code; on failure (or without a tree) takes the recorded figures. */
export async function measureBeforePhase(
  before: Before,
  phase: BeforePhase,
  options: DriverOptions,
): Promise<void> {
  if (before.directory !== undefined) {
    const started = performance.now();
    try {
      const results = await runBeforePhase(before.directory, phase, options);
      before.phaseWallMs[phase] = performance.now() - started;
      const iam = before.results.iam ?? { evaluated: 0, denied: 0 };
      Object.assign(before.results, results, {
        iam: {
          evaluated: iam.evaluated + (results.iam?.evaluated ?? 0),
          denied: iam.denied + (results.iam?.denied ?? 0),
        },
      });
      before.sources[phase] = MEASURED;
      return;
    } catch (error) {
      before.errors.push(error instanceof Error ? error.message : String(error));
    }
  }
  try {
    const recorded = recordedBefore();
    if (phase === "responses") {
      before.results.containment = recorded.results.containment;
      before.results.containmentThreeEnis = recorded.results.containmentThreeEnis;
      before.results.endToEnd = recorded.results.endToEnd;
    }
    if (phase === "burst") before.results.burst = recorded.results.burst;
    before.sources[phase] = recorded.note;
  } catch (error) {
    before.errors.push(`no recorded figures either: ${String(error)}`);
  }
}

function git(...args: string[]): string {
  return execFileSync("git", args, { cwd: ROOT, encoding: "utf8" }).trim();
}

/** Extracts the old commit once (a stamp marks a complete copy), links node_modules, copies the driver. */
function prepareBeforeTree(): { commit: string; directory: string } {
  const commit = git("rev-parse", "--verify", `${BEFORE_COMMIT}^{commit}`);
  const directory = path.join(ROOT, "node_modules", ".cache", "bench-baseline", commit);
  const stamp = path.join(directory, ".bench-baseline-complete");
  if (!fs.existsSync(stamp)) {
    fs.rmSync(directory, { recursive: true, force: true });
    fs.mkdirSync(directory, { recursive: true });
    execSync(`git archive --format=tar ${commit} | tar -x -C "${directory}"`, { cwd: ROOT });
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(directory, "node_modules"), "dir");
    fs.writeFileSync(stamp, `${commit}\n`);
  }
  fs.copyFileSync(
    path.join(__dirname, "baselineDriver.ts"),
    path.join(directory, "bench", "baselineDriver.ts"),
  );
  // The driver imports the harness where today's tree keeps it (testkit/); the old tree kept it in test/handler.
  fs.mkdirSync(path.join(directory, "testkit"), { recursive: true });
  fs.writeFileSync(
    path.join(directory, "testkit", "harness.ts"),
    'export * from "../test/handler/harness";\n',
  );
  return { commit, directory };
}

/** Runs one phase of the old tree's bench code in a child process and returns what it printed. */
function runBeforePhase(
  directory: string,
  phase: BeforePhase,
  options: DriverOptions,
): Promise<BeforeResults> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["-r", "ts-node/register/transpile-only", "bench/baselineDriver.ts", phase, JSON.stringify(options)],
      {
        cwd: directory,
        env: { ...STARTING_ENVIRONMENT, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    let errors = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (errors += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      const line = output.split("\n").find((entry) => entry.startsWith(RESULT_MARKER));
      if (code === 0 && line !== undefined) {
        resolve(JSON.parse(line.slice(RESULT_MARKER.length)) as BeforeResults);
        return;
      }
      reject(
        new Error(`the ${phase} phase of ${BEFORE_COMMIT} exited ${code}: ${errors.trim().slice(-600)}`),
      );
    });
  });
}

/** The old commit's committed results (bench/results/latest.json as of that commit), mapped to BeforeResults. */
function recordedBefore(): { results: BeforeResults; note: string } {
  const text = git("show", `${BEFORE_COMMIT}:bench/results/latest.json`);
  const recorded = JSON.parse(text) as {
    generatedAt: string;
    code: { commit: string };
    containment: { oneEni: ContainmentResult; threeEnis: ContainmentResult };
    endToEnd: EndToEndResult[];
    burst: { size: number; isolation: BurstIsolation; completion: BurstCompletion }[];
    iam: { evaluated: number; denied: number };
  };
  const largest = recorded.burst.at(-1);
  return {
    results: {
      containment: recorded.containment.oneEni,
      containmentThreeEnis: recorded.containment.threeEnis,
      endToEnd: recorded.endToEnd.map((result) => ({ result })),
      ...(largest === undefined
        ? {}
        : { burst: { size: largest.size, isolation: largest.isolation, completion: largest.completion } }),
      iam: recorded.iam,
    },
    note:
      `recorded in ${BEFORE_COMMIT}:bench/results/latest.json (${recorded.generatedAt}, code ` +
      `${recorded.code.commit.slice(0, 7)}), NOT measured in this run`,
  };
}
