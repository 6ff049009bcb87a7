// The "before" side of the benchmark: this file is copied into a tree of the old engine's commit (bench/model.ts
// BEFORE_COMMIT, extracted by bench/before.ts into node_modules/.cache/bench-baseline/<commit>) as
// bench/baselineDriver.ts, and run there with that tree's working directory. Its relative imports are then THAT
// tree's modules: its own bench code (containment, end to end, burst), its harness, its handler, its simulator.
// Nothing of today's code runs in it. It only calls them and prints what they return, as JSON on one line.
//
// One more figure the old bench did not print: Lambda billed seconds per incident. The old engine ran the whole
// response inside the Lambda (through the memory-dump wait), with self-invoked continuations when its time budget
// ran short; every invocation's duration is timed here around the handler the harness builds (createResponder is
// wrapped before any harness exists), attributed to the instance its event names, and converted to simulated time
// with the measurement's time scale (the handler's CPU included, multiplied by the scale like everything else).
//
// Two phases, each a process of its own, in the order of that tree's own bench/run.ts: "responses" (containment with
// 1 ENI and with 3, then end to end, kdump-ready and without kdump: one process, warmed up as in its own run; then
// the CPU check, ours alone without kdump at a lower time scale, from that tree's scenario and response functions)
// and "burst" (isolation with the untrack hop and completion, for one size).
//
//   node -r ts-node/register/transpile-only bench/baselineDriver.ts <responses|burst> '<options JSON>'
import { measureBurstCompletion, measureBurstIsolation, stopBurstWorkers } from "./burst";
import { measureContainment } from "./containment";
import { measureEndToEnd } from "./endToEnd";
import { AWS_TYPICAL_DURATIONS, TIME_SCALES } from "./model";
import { runOurs } from "./responseRuns";
import { iamTotals, referenceWorkload, startBench } from "./scenario";
import { stopDynamo } from "../testkit/harness";

/** The line the parent looks for on stdout. */
export const RESULT_MARKER = "BENCH-BEFORE-RESULT ";

export interface DriverOptions {
  readonly containmentRepetitions?: number;
  readonly endToEndRepetitions?: number;
  /** The CPU check: ours alone without kdump, at this time scale (none: not run). */
  readonly cpuCheckScale?: number;
  readonly burstSize?: number;
  readonly isolationWindowMs?: number;
  readonly completionScale?: number;
  readonly completionCapMs?: number;
}

/** One invocation of the old handler: which instance its event named, and its wall duration. */
interface TimedInvocation {
  readonly instanceId?: string;
  readonly kind: "finding" | "continuation" | "other";
  readonly wallMs: number;
}

const invocations: TimedInvocation[] = [];

type Factory = () => (event: unknown, context: unknown) => Promise<unknown>;

function kindOf(event: unknown): TimedInvocation["kind"] {
  if (typeof event !== "object" || event === null) return "other";
  if ("ir:continue" in event) return "continuation";
  return "detail" in event ? "finding" : "other";
}

/** Times every invocation of every responder the tree's harness creates from now on. */
function timeInvocations(): void {
  const handlerModule = require("../handler") as { createResponder: Factory };
  const original = handlerModule.createResponder;
  handlerModule.createResponder = () => {
    const respond = original();
    return async (event, context) => {
      const started = performance.now();
      try {
        return await respond(event, context);
      } finally {
        invocations.push({
          instanceId: /i-[0-9a-f]{8,17}/.exec(JSON.stringify(event) ?? "")?.[0],
          kind: kindOf(event),
          wallMs: performance.now() - started,
        });
      }
    };
  };
}

/** Per instance: invocations and billed seconds (simulated: wall x time scale). */
function billingSince(from: number, timeScale: number) {
  const byInstance = new Map<string, { invocations: number; continuations: number; billedSeconds: number }>();
  for (const invocation of invocations.slice(from)) {
    if (invocation.instanceId === undefined) continue;
    const entry = byInstance.get(invocation.instanceId) ?? {
      invocations: 0,
      continuations: 0,
      billedSeconds: 0,
    };
    entry.invocations += 1;
    if (invocation.kind === "continuation") entry.continuations += 1;
    entry.billedSeconds += (invocation.wallMs * timeScale) / 1000;
    byInstance.set(invocation.instanceId, entry);
  }
  return [...byInstance.entries()].map(([instanceId, entry]) => ({ instanceId, ...entry }));
}

async function run(phase: string, options: DriverOptions): Promise<unknown> {
  switch (phase) {
    case "responses": {
      const repetitions = options.containmentRepetitions ?? 5;
      const containment = await measureContainment(repetitions, 1);
      const containmentThreeEnis = await measureContainment(Math.max(3, Math.floor(repetitions / 2)), 3);
      const endToEnd = [];
      for (const kdumpReady of [true, false]) {
        const from = invocations.length;
        const result = await measureEndToEnd(kdumpReady, options.endToEndRepetitions ?? 3);
        endToEnd.push({ result, billing: billingSince(from, TIME_SCALES.endToEnd) });
      }
      if (options.cpuCheckScale === undefined) return { containment, containmentThreeEnis, endToEnd };
      const from = invocations.length;
      const harness = await startBench({
        timeScale: options.cpuCheckScale,
        durations: AWS_TYPICAL_DURATIONS,
      });
      const runs = [];
      try {
        for (let index = 0; index < (options.endToEndRepetitions ?? 3); index += 1)
          runs.push(await runOurs(harness, referenceWorkload(harness, { kdumpReady: false })));
      } finally {
        await harness.stop();
      }
      const cpuCheck = {
        timeScale: options.cpuCheckScale,
        runs,
        billing: billingSince(from, options.cpuCheckScale),
      };
      return { containment, containmentThreeEnis, endToEnd, cpuCheck };
    }
    case "burst": {
      const size = options.burstSize ?? 100;
      const isolation = await measureBurstIsolation(size, options.isolationWindowMs ?? 60_000, true);
      const completion = await measureBurstCompletion(
        size,
        options.completionScale ?? 4,
        options.completionCapMs ?? 900_000,
      );
      stopBurstWorkers();
      return { burst: { size, isolation, completion } };
    }
    default:
      throw new Error(`unknown phase ${phase}`);
  }
}

if (require.main === module) {
  timeInvocations();
  const [phase = "", json = "{}"] = process.argv.slice(2);
  run(phase, JSON.parse(json) as DriverOptions)
    .then(async (result) => {
      await stopDynamo();
      process.stdout.write(`${RESULT_MARKER}${JSON.stringify({ ...(result as object), iam: iamTotals })}\n`);
      process.exit(0);
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}
