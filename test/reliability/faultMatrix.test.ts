// The fault matrix: every mutating AWS call of every step (faultMatrix.rows.ts) crossed with every kind of fault
// AWS shows. Each response must end correct after the SDK's retries and Lambda's re-deliveries: contained, access
// cut, no evidence lost or duplicated, one workstation, the instance never terminated.
//
// The cases run in a few lanes (child processes, faultMatrixLane.ts), each with its own simulator and incident
// table, side by side: a case mostly waits (SDK back-off, Lambda's retry delay), so lanes cut the wall time. Each
// case is still one `it` here, failing with the lane's assertion message.
import { fork, type ChildProcess } from "child_process";
import * as path from "path";

import { expect } from "chai";

import { STEP_FAULT_ROWS } from "./faultMatrix.rows";
import { FAULT_KINDS, KNOWN_DEFECTS, caseKey, type LaneMessage, type MatrixCase } from "./faultMatrixLane";

/** Lanes side by side: enough to overlap the waiting, few enough for a two-core machine. */
const LANES = 3;

interface CaseResult {
  readonly error?: string;
  readonly ms: number;
}

describe("reliability: fault matrix (every mutating call x every fault kind)", function () {
  // A case's `it` may wait for the cases before it in its lane.
  this.timeout(180_000);
  const cases: MatrixCase[] = STEP_FAULT_ROWS.flatMap((_, row) => FAULT_KINDS.map((kind) => ({ row, kind })));
  const results = new Map<string, Promise<CaseResult>>();
  const settle = new Map<string, (result: CaseResult) => void>();
  const mutatingCalls = new Map<string, readonly string[]>();
  const lanes: ChildProcess[] = [];
  let started: Promise<void>;

  before(function () {
    for (const matrixCase of cases) {
      const key = caseKey(matrixCase);
      results.set(key, new Promise((resolve) => settle.set(key, resolve)));
    }
    // Round robin: the slow kind (throttling) spreads over every lane.
    const shares = Array.from({ length: LANES }, (_, lane) =>
      cases.filter((_, index) => index % LANES === lane),
    );
    const startups = shares.map((share) => {
      const lane = fork(path.join(__dirname, "faultMatrixLane.ts"), [], {
        execArgv: ["-r", "ts-node/register/transpile-only"],
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      });
      lanes.push(lane);
      return new Promise<void>((resolve, reject) => {
        const failAll = (error: string) => {
          for (const matrixCase of share) settle.get(caseKey(matrixCase))?.({ error, ms: 0 });
          reject(new Error(error));
        };
        lane.on("message", (message: LaneMessage) => {
          if (message.kind === "started") {
            for (const [scenario, calls] of Object.entries(message.mutatingCalls))
              mutatingCalls.set(scenario, calls);
            resolve();
          } else if (message.kind === "case") {
            settle.get(message.key)?.({ error: message.error, ms: message.ms });
          } else {
            failAll(`the lane could not start: ${message.error}`);
          }
        });
        lane.once("exit", (code) => failAll(`the lane exited (code ${code})`));
        lane.send(share);
      });
    });
    started = Promise.all(startups).then(() => undefined);
    // Cases report through their promises; the hook only starts the lanes.
    started.catch(() => undefined);
  });

  after(() => {
    for (const lane of lanes) if (lane.exitCode === null) lane.kill("SIGKILL");
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

  it("every mutating call the responder makes in these scenarios has a row", async () => {
    await started;
    const covered = new Set(STEP_FAULT_ROWS.map((row) => `${row.service}:${row.action}`));
    const missing = [...mutatingCalls].flatMap(([scenario, calls]) =>
      calls.filter((call) => !covered.has(call)).map((call) => `${call} (${scenario})`),
    );
    expect(missing, "mutating calls without a fault-matrix row").to.deep.equal([]);
  });
});
