// The fault matrix: every mutating AWS call of the response (faultMatrix.rows.ts), the responder's and the state
// machine's, crossed with every kind of fault AWS shows. Each response must end correct after the SDK's retries,
// Lambda's re-deliveries of the finding and the state machine's Retry of its Tasks: one execution that succeeded,
// contained, access cut, no evidence lost or duplicated, one workstation, a report, the instance never terminated.
//
// The cases run in a few lanes (child processes, faultMatrixLane.ts), each with its own simulator, state machine and
// incident table, side by side: a case mostly waits (SDK back-off, Lambda's retry delay, the state machine's Retry
// and Wait states), so lanes cut the wall time. Each case is still one `it` here, failing with the lane's assertion
// message. This file imports only the table (faultMatrix.rows.ts): the lanes load the simulator and the handler.
import { fork, type ChildProcess } from "child_process";
import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";

import { expect } from "chai";

import {
  FAULT_KINDS,
  KNOWN_DEFECTS,
  STEP_FAULT_ROWS,
  caseKey,
  type LaneMessage,
  type LaneOrder,
  type MatrixCase,
  type ScenarioName,
} from "./faultMatrix.rows";

/** Whether a case must run at the slow time scale (see LANES). */
function wallBound({ row, kind }: MatrixCase): boolean {
  return kind === "throttling" || STEP_FAULT_ROWS[row]!.scenario === "long waits";
}

/**
 * The lanes: enough to overlap the waiting, few enough for a two-core machine. A Task's limit (TimeoutSeconds,
 * 960 s) runs on the simulated clock, a pass on the wall clock. After a throttle the SDK backs off and its adaptive
 * rate limiter holds the responder's later calls for seconds of wall time: at 1:500 such a pass would outlive its
 * Task and run on beside its retry, which the function's own timeout prevents in AWS. Those cases run at 1:100
 * (9.6 wall s a Task), as does the long-waits family, whose passes must be short next to the poll interval for the
 * waits to be many; lanes at 1:100 take the other cases too once those are done. The rest run at 1:500 (1.9 wall s
 * a Task; their passes take well under 0.5 s).
 */
const LANES: readonly { readonly timeScale: number; readonly wallBound: boolean }[] = [
  { timeScale: 100, wallBound: true },
  { timeScale: 100, wallBound: true },
  { timeScale: 100, wallBound: true },
  { timeScale: 500, wallBound: false },
  { timeScale: 500, wallBound: false },
];

/** Loaded by each lane after ts-node: the lanes share what they transpile (see the file). */
const TRANSPILE_CACHE_HOOK = path.join(__dirname, "support", "transpileCache.ts");

/** The scenarios the rows run in: each lane reports some of their fault-free responses' mutating calls. */
const SCENARIOS: readonly ScenarioName[] = [...new Set(STEP_FAULT_ROWS.map((row) => row.scenario))];

interface CaseResult {
  readonly error?: string;
  readonly ms: number;
}

describe("reliability: fault matrix (every mutating call x every fault kind)", function () {
  // A case's `it` may wait for the cases before it.
  this.timeout(180_000);
  const cases: MatrixCase[] = STEP_FAULT_ROWS.flatMap((_, row) => FAULT_KINDS.map((kind) => ({ row, kind })));
  const results = new Map<string, Promise<CaseResult>>();
  const settle = new Map<string, (result: CaseResult) => void>();
  const mutatingCalls = new Map<string, readonly string[]>();
  const lanes: ChildProcess[] = [];
  let started: Promise<void>;
  let transpileCache = "";

  before(function () {
    transpileCache = mkdtempSync(path.join(tmpdir(), "fault-matrix-"));
    for (const matrixCase of cases) {
      const key = caseKey(matrixCase);
      results.set(key, new Promise((resolve) => settle.set(key, resolve)));
    }
    // Cases are handed out one at a time, to whichever lane is free: wall-bound ones (the slowest) to the slow
    // lanes first; a fast lane takes only the others, a slow lane takes them once no wall-bound case is left.
    // A `hits` row waits, if it can, for the skip a lane counted in its reference (else its lane counts it).
    const queue = [...cases];
    const live = new Set<number>();
    const skips = new Map<number, number>();
    const next = (slow: boolean): MatrixCase | undefined => {
      let candidates = queue.filter((matrixCase) => wallBound(matrixCase) === slow);
      if (candidates.length === 0 && slow) candidates = [...queue].reverse();
      const ready = candidates.find(
        (matrixCase) => STEP_FAULT_ROWS[matrixCase.row]!.hits === undefined || skips.has(matrixCase.row),
      );
      const chosen = ready ?? candidates[0];
      if (chosen !== undefined) queue.splice(queue.indexOf(chosen), 1);
      return chosen;
    };
    /** Cases no live lane can run any more (every lane that could has failed) fail at once. */
    const strand = (error: string) => {
      const canRun = (matrixCase: MatrixCase) =>
        [...live].some((lane) => LANES[lane]!.wallBound || !wallBound(matrixCase));
      for (const matrixCase of queue.filter((queued) => !canRun(queued))) {
        queue.splice(queue.indexOf(matrixCase), 1);
        settle.get(caseKey(matrixCase))?.({ error, ms: 0 });
      }
    };
    // The fault-free references go to the fast lanes (cheapest there); the slow ones start on their cases at once.
    const fast = LANES.flatMap((lane, index) => (lane.wallBound ? [] : [index]));
    const referees = fast.length > 0 ? fast : LANES.map((_, index) => index);
    const startLane = (index: number, loaded: () => void): Promise<void> => {
      const { timeScale, wallBound: slow } = LANES[index]!;
      const lane = fork(path.join(__dirname, "faultMatrixLane.ts"), [], {
        execArgv: ["-r", "ts-node/register/transpile-only", "-r", TRANSPILE_CACHE_HOOK],
        env: { ...process.env, FAULT_MATRIX_TRANSPILE_CACHE: transpileCache },
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      });
      lanes.push(lane);
      live.add(index);
      const order = (message: LaneOrder) => lane.send(message);
      let running: MatrixCase | undefined;
      const dispatch = () => {
        running = next(slow);
        const skip = running === undefined ? undefined : skips.get(running.row);
        order(
          running === undefined
            ? { kind: "stop" }
            : { kind: "run", case: running, ...(skip === undefined ? {} : { skip }) },
        );
      };
      return new Promise<void>((resolve, reject) => {
        const fail = (error: string) => {
          loaded();
          if (!live.delete(index)) return;
          if (running !== undefined) settle.get(caseKey(running))?.({ error, ms: 0 });
          running = undefined;
          strand(error);
          reject(new Error(error));
        };
        lane.on("message", (message: LaneMessage) => {
          if (message.kind === "loaded") {
            loaded();
          } else if (message.kind === "started") {
            for (const [scenario, calls] of Object.entries(message.mutatingCalls))
              mutatingCalls.set(scenario, calls);
            for (const [row, skip] of Object.entries(message.skips)) skips.set(Number(row), skip);
            resolve();
            dispatch();
          } else if (message.kind === "case") {
            settle.get(message.key)?.({ error: message.error, ms: message.ms });
            dispatch();
          } else {
            fail(`the lane could not start: ${message.error}`);
          }
        });
        lane.once("exit", (code) => fail(`the lane exited (code ${code})`));
        order({
          kind: "start",
          timeScale,
          references: SCENARIOS.filter((_, scenario) => referees[scenario % referees.length] === index),
        });
      });
    };
    // The first lane transpiles into the run's cache alone; the others start once it has loaded, and read it.
    let others: Promise<void>[] | undefined;
    const first = startLane(0, () => {
      others ??= LANES.slice(1).map((_, index) => startLane(index + 1, () => undefined));
    });
    started = first.then(
      async () => void (await Promise.all(others ?? [])),
      async (error: unknown) => {
        await Promise.allSettled(others ?? []);
        throw error;
      },
    );
    // Cases report through their promises; the hook only starts the lanes.
    started.catch(() => undefined);
  });

  after(() => {
    for (const lane of lanes) if (lane.exitCode === null) lane.kill("SIGKILL");
    if (transpileCache !== "") rmSync(transpileCache, { recursive: true, force: true });
  });

  for (const matrixCase of cases) {
    const row = STEP_FAULT_ROWS[matrixCase.row]!;
    const what = `${row.action}${row.call ? ` (${row.call})` : ""}`;
    const known = KNOWN_DEFECTS[`${row.action}/${matrixCase.kind}`];
    const title = known
      ? `${row.step} / ${what} / ${matrixCase.kind}: KNOWN DEFECT, ${known.defect}`
      : `${row.step} / ${what} / ${matrixCase.kind}: ends contained, evidence kept, nothing duplicated`;
    it(title, async () => {
      const result = await results.get(caseKey(matrixCase))!;
      if (result.error !== undefined) expect.fail(result.error);
    });
  }

  it("every mutating call of the response (the responder's and the state machine's) has a row", async () => {
    await started;
    expect([...mutatingCalls.keys()].sort(), "scenarios with a fault-free reference").to.deep.equal(
      [...SCENARIOS].sort(),
    );
    const covered = new Set(STEP_FAULT_ROWS.map((row) => `${row.service}:${row.action}`));
    const missing = [...mutatingCalls].flatMap(([scenario, calls]) =>
      calls.filter((call) => !covered.has(call)).map((call) => `${call} (${scenario})`),
    );
    expect(missing, "mutating calls without a fault-matrix row").to.deep.equal([]);
  });
});
