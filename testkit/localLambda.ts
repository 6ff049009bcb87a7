// A local stand-in for the Lambda service, running the responder's deployment package unchanged: each execution
// environment is a fresh Node process whose module resolution sees only the package itself, the packages the
// nodejs22.x runtime provides (@aws-sdk/*) and the Powertools layer, as in /var/task, /var/runtime and /opt.
// Invocation semantics follow Lambda's: one invocation per environment at a time, idle environments reused (warm
// starts), a hard timeout that ends the environment, and asynchronous invocations delivered with Lambda's retries
// (lambdaDelivery.ts, as for the in-process harness). The processes run on the Lambda's own Node (22,
// testkit/lambdaNode.ts) when it is here.
import { ChildProcess, fork } from "child_process";
import { randomUUID } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { createInterface } from "readline";
import { findLambdaNode } from "./lambdaNode";
import { deliverAsync } from "./lambdaDelivery";

/** Packages the Lambda runtime and the Powertools layer put on the module path. */
const RUNTIME_PACKAGE_PATTERN = /^(@aws-sdk\/|@aws-lambda-powertools\/|@aws\/lambda-invoke-store$)/;

export interface LocalLambdaOptions {
  /** The unpacked deployment package (must lie outside any folder with a node_modules). */
  artifactDir: string;
  /** The function's environment variables (Lambda adds its own AWS_* on top). */
  environment: Record<string, string>;
  functionName: string;
  functionArn: string;
  timeoutMs: number;
  memoryMb: number;
  /** Asynchronous retries wait this long in wall ms (Lambda: about 1 and 2 minutes; scaled by the drill). */
  retryDelaysMs: readonly number[];
  /** node_modules folder that holds the runtime-provided packages (the repository's). */
  sourceNodeModules: string;
  /** Each line the function writes to stdout or stderr (Powertools writes one JSON object a line). */
  onLog?: (line: string) => void;
}

interface InvocationFacts {
  requestId: string;
  coldStart: boolean;
  /** Wall time of the environment's init (module load and factory), on a cold start. */
  initMs?: number;
  /** Wall clock (epoch ms) when the handler was called, after any init. */
  startedAtMs: number;
}

export type InvocationResult =
  | ({ ok: true; result: unknown } & InvocationFacts)
  | ({ ok: false; error: { name: string; message: string } } & InvocationFacts);

export interface AsyncInvocationRecord {
  requestId: string;
  payload: unknown;
  /** Wall clock (epoch ms) when the handler was first called for this event. */
  firstStartedAtMs?: number;
  attempts: InvocationResult[];
  deadLettered: boolean;
}

interface Environment {
  child: ChildProcess;
  busy: boolean;
  initMs: Promise<number>;
  used: boolean;
}

const BOOTSTRAP = `// Written by testkit/localLambda.ts: the runtime's bootstrap for one execution environment.
"use strict";
const path = require("path");
const started = process.hrtime.bigint();
let handler, initError;
try {
  handler = require(path.join(process.env.LAMBDA_TASK_ROOT, "__index.js")).handler;
} catch (error) {
  initError = { name: error.name, message: error.message + "\\n" + error.stack };
}
process.send({ type: "ready", initMs: Number(process.hrtime.bigint() - started) / 1e6, initError });
process.on("message", async (message) => {
  const deadline = Date.now() + message.timeoutMs;
  const context = {
    awsRequestId: message.requestId,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: "$LATEST",
    invokedFunctionArn: message.functionArn,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: "/aws/lambda/" + process.env.AWS_LAMBDA_FUNCTION_NAME,
    logStreamName: "local",
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  try {
    if (initError) throw Object.assign(new Error(initError.message), { name: initError.name });
    const result = await handler(message.payload, context);
    process.send({ type: "result", requestId: message.requestId, result });
  } catch (error) {
    process.send({ type: "error", requestId: message.requestId, error: { name: error.name, message: error.message } });
  }
});
`;

/** The Node that runs the execution environments, and why it is not the Lambda's when it is not. */
export interface RuntimeNode {
  execPath: string;
  version: string;
  /** True when it is the Lambda's major (22); otherwise `reason` says why this machine's Node runs it. */
  lambdaMajor: boolean;
  reason?: string;
}

export class LocalLambda {
  private readonly environments: Environment[] = [];
  readonly runtimeNode: RuntimeNode;
  private readonly pending = new Set<Promise<unknown>>();
  private readonly root: string;
  readonly asyncInvocations: AsyncInvocationRecord[] = [];
  readonly coldStartsMs: number[] = [];

  constructor(private readonly options: LocalLambdaOptions) {
    const lambdaNode = findLambdaNode();
    this.runtimeNode = lambdaNode.found
      ? { execPath: lambdaNode.execPath, version: lambdaNode.version, lambdaMajor: true }
      : {
          execPath: process.execPath,
          version: process.version,
          lambdaMajor: false,
          reason: lambdaNode.reason,
        };
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), "ir-lambda-runtime-"));
    fs.writeFileSync(path.join(this.root, "bootstrap.js"), BOOTSTRAP);
    linkRuntimePackages(options.sourceNodeModules, path.join(this.root, "node_modules"));
  }

  /** A synchronous (RequestResponse) invocation. */
  async invoke(
    payload: unknown,
    requestId: string = randomUUID(),
    onStart?: (startedAtMs: number) => void,
  ): Promise<InvocationResult> {
    const environment = this.environments.find((e) => !e.busy) ?? this.start();
    environment.busy = true;
    const coldStart = !environment.used;
    environment.used = true;
    const initMs = await environment.initMs;
    if (coldStart) this.coldStartsMs.push(initMs);
    try {
      const startedAtMs = Date.now();
      onStart?.(startedAtMs);
      const answer = await this.run(environment, payload, requestId);
      return { ...answer, requestId, coldStart, startedAtMs, ...(coldStart ? { initMs } : {}) };
    } finally {
      environment.busy = false;
    }
  }

  /** An asynchronous (Event) invocation: queued, delivered as Lambda delivers it (lambdaDelivery.ts). */
  invokeAsync(payload: unknown): AsyncInvocationRecord {
    const record: AsyncInvocationRecord = {
      requestId: randomUUID(),
      payload,
      attempts: [],
      deadLettered: false,
    };
    this.asyncInvocations.push(record);
    const attempt = async (requestId: string): Promise<void> => {
      const result = await this.invoke(payload, requestId, (at) => (record.firstStartedAtMs ??= at));
      record.attempts.push(result);
      if (!result.ok) throw Object.assign(new Error(result.error.message), { name: result.error.name });
    };
    const running = deliverAsync(attempt, {
      requestId: record.requestId,
      retryDelaysMs: this.options.retryDelaysMs,
      wait: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    }).then((delivery) => {
      record.deadLettered = delivery.deadLettered;
    });
    this.pending.add(running);
    void running.finally(() => this.pending.delete(running));
    return record;
  }

  /** Resolves when no asynchronous invocation is queued or running (including ones started meanwhile). */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  stop(): void {
    for (const environment of this.environments) environment.child.kill("SIGKILL");
    this.environments.length = 0;
    fs.rmSync(this.root, { recursive: true, force: true });
  }

  private start(): Environment {
    const { options } = this;
    const child = fork(path.join(this.root, "bootstrap.js"), [], {
      // Node 22 as on nodejs22.x where it is here (IPC is JSON: any two Node versions speak it).
      execPath: this.runtimeNode.execPath,
      cwd: options.artifactDir,
      // The parent may run under ts-node: the runtime must not inherit any loader.
      execArgv: [],
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        ...options.environment,
        NODE_PATH: path.join(this.root, "node_modules"),
        LAMBDA_TASK_ROOT: options.artifactDir,
        AWS_LAMBDA_FUNCTION_NAME: options.functionName,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(options.memoryMb),
        AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
        TZ: ":UTC",
      },
    });
    const forward = (stream: NodeJS.ReadableStream | null) => {
      if (stream) createInterface({ input: stream }).on("line", (line) => options.onLog?.(line));
    };
    forward(child.stdout);
    forward(child.stderr);
    const initMs = new Promise<number>((resolve, reject) => {
      child.once("message", (message: { type: string; initMs: number }) => resolve(message.initMs));
      child.once("exit", (code) => reject(new Error(`the runtime exited during init (code ${code})`)));
    });
    initMs.catch(() => undefined);
    const environment: Environment = { child, busy: false, initMs, used: false };
    this.environments.push(environment);
    return environment;
  }

  private run(
    environment: Environment,
    payload: unknown,
    requestId: string,
  ): Promise<{ ok: true; result: unknown } | { ok: false; error: { name: string; message: string } }> {
    const { child } = environment;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        // Lambda ends an environment whose invocation runs past the timeout.
        cleanup();
        this.discard(environment);
        resolve({
          ok: false,
          error: { name: "Sandbox.Timedout", message: `Task timed out after ${this.options.timeoutMs} ms` },
        });
      }, this.options.timeoutMs);
      const onMessage = (message: { type: string; requestId?: string; result?: unknown; error?: never }) => {
        if (message.requestId !== requestId) return;
        cleanup();
        resolve(
          message.type === "result"
            ? { ok: true, result: message.result }
            : { ok: false, error: message.error! },
        );
      };
      const onExit = (code: number | null) => {
        cleanup();
        this.discard(environment);
        resolve({
          ok: false,
          error: { name: "Runtime.ExitError", message: `the runtime exited (code ${code})` },
        });
      };
      const cleanup = () => {
        clearTimeout(timer);
        child.off("message", onMessage);
        child.off("exit", onExit);
      };
      child.on("message", onMessage);
      child.once("exit", onExit);
      child.send({
        type: "invoke",
        requestId,
        payload,
        timeoutMs: this.options.timeoutMs,
        functionArn: this.options.functionArn,
      });
    });
  }

  private discard(environment: Environment): void {
    environment.child.kill("SIGKILL");
    const index = this.environments.indexOf(environment);
    if (index >= 0) this.environments.splice(index, 1);
  }
}

/** Mirrors what the runtime and the layer provide: a folder with only those packages, linked from node_modules. */
function linkRuntimePackages(sourceNodeModules: string, target: string): void {
  const names = fs
    .readdirSync(sourceNodeModules)
    .flatMap((entry) =>
      entry.startsWith("@")
        ? fs.readdirSync(path.join(sourceNodeModules, entry)).map((inner) => `${entry}/${inner}`)
        : [entry],
    );
  for (const name of names.filter((n) => RUNTIME_PACKAGE_PATTERN.test(n))) {
    const link = path.join(target, name);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(path.join(sourceNodeModules, name), link, "dir");
  }
}
