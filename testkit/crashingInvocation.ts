// One Lambda invocation of the SERIALIZED responder (what Pulumi uploads) in a worker thread, so a test can end it
// abruptly (worker.terminate()) the way Lambda ends a crashed or timed-out invocation: no finally blocks, no lease
// release, requests cut mid-flight.
import * as fs from "fs";
import * as path from "path";
import { Worker } from "worker_threads";

import { createResponder } from "../handler";
import type { IncidentRecord } from "../handler/incidentRecord";
import { FUNCTION_NAME } from "./responderWorld";

const INVOCATION_WORKER = `
const { parentPort, workerData } = require("worker_threads");
Object.assign(process.env, workerData.env);
const { handler } = require(workerData.artifact);
const deadline = Date.now() + workerData.invocationMs;
handler(workerData.event, {
  awsRequestId: workerData.requestId,
  functionName: ${JSON.stringify(FUNCTION_NAME)},
  getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
}).then(
  (outcome) => parentPort.postMessage({ outcome }),
  (error) => parentPort.postMessage({ error: String(error) }),
);
`;

let artifact: Promise<string> | undefined;

/** createResponder as Pulumi serializes it, written where Node resolves the repository's node_modules. */
function serializedResponder(): Promise<string> {
  artifact ??= (async () => {
    const pulumi = await import("@pulumi/pulumi");
    const serialized = await pulumi.runtime.serializeFunction(createResponder, { isFactoryFunction: true });
    const directory = path.join(__dirname, "..", "node_modules", ".cache", "ir-handler-tests");
    fs.mkdirSync(directory, { recursive: true });
    const file = path.join(directory, `responder-${process.pid}.js`);
    fs.writeFileSync(file, serialized.text);
    return file;
  })();
  return artifact;
}

export interface CrashingInvocation {
  readonly event: unknown;
  readonly requestId: string;
  /** Wall ms the invocation gets (Lambda's remaining time). */
  readonly invocationMs: number;
  /** Polled: the invocation is ended as soon as this holds for the incident record. */
  readonly crashWhen: (record: IncidentRecord | undefined) => boolean;
  readonly record: () => Promise<IncidentRecord | undefined>;
}

/** Runs the invocation (with the process's environment) until it finishes or `crashWhen` holds. */
export async function invokeAndCrash(invocation: CrashingInvocation): Promise<"crashed" | "finished"> {
  const { event, requestId, invocationMs } = invocation;
  const worker = new Worker(INVOCATION_WORKER, {
    eval: true,
    workerData: {
      artifact: await serializedResponder(),
      env: { ...process.env },
      event,
      requestId,
      invocationMs,
    },
  });
  let finished = false;
  const ended = new Promise<void>((resolve) => {
    worker.once("message", () => {
      finished = true;
      resolve();
    });
    worker.once("error", () => resolve());
    worker.once("exit", () => resolve());
  });
  for (;;) {
    if (finished) {
      await worker.terminate();
      return "finished";
    }
    if (invocation.crashWhen(await invocation.record())) {
      await worker.terminate();
      await ended;
      return "crashed";
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
