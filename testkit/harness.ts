// Test harness for the response handler: the AWS simulator (simulator), a real DynamoDB-compatible
// server (dynalite, in-process), and the unmodified handler built by createResponder() from environment
// settings, exactly as Lambda would build it, run in process. Timings are simulated: settings are scaled to the
// time scale. The account it responds in is responderWorld.ts; Lambda's retries are lambdaDelivery.ts.
import { randomUUID } from "crypto";

import { DynamoDB } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocument } from "@aws-sdk/lib-dynamodb";

import { createStackTable } from "./deployToSimulator";
import { deployWorkflow } from "./deployWorkflow";
import { startDynalite, type LocalDynamo } from "./localDynamo";
import { testStackRun } from "./responderIdentity";
import { deniedRequests } from "../simulator/iam/authorizer";
import { startSimulator, type SimulatorOptions, type Simulator } from "../simulator";
import { createResponder, type InvocationOutcome, type LambdaContext } from "../handler";
import type { IncidentRecord } from "../handler/incidentRecord";
import { incidentKey, instanceIdOfIncident } from "../handler/incidentRecord";
import { invokeAndCrash } from "./crashingInvocation";
import { deliverAsync } from "./lambdaDelivery";
import {
  buildWorld,
  FUNCTION_NAME,
  responderCredentials,
  responderSettings,
  stackReplacements,
  type World,
} from "./responderWorld";

let dynamo: LocalDynamo | undefined;

/** One dynalite server for the whole run; each harness gets its own table. */
async function dynamoEndpoint(): Promise<string> {
  dynamo ??= await startDynalite();
  return dynamo.endpoint;
}

export async function stopDynamo(): Promise<void> {
  const running = dynamo;
  dynamo = undefined;
  await running?.stop();
}

export interface HarnessOptions {
  timeScale?: number;
  simulator?: SimulatorOptions;
  settings?: Record<string, string>;
  /** Wall milliseconds each invocation gets (Lambda's remaining time). */
  invocationMs?: number;
}

/**
 * What a finding led to: the triggering invocation's outcome, or, when it started the state machine's execution,
 * how that execution ended ("completed" when the record says so).
 */
export type ResponseOutcome =
  | Exclude<InvocationOutcome, { outcome: "started" } | { step: string }>
  | {
      readonly outcome: "completed" | "not-completed";
      readonly incidentId: string;
      readonly executionArn: string;
      /** SUCCEEDED, FAILED, TIMED_OUT or ABORTED. */
      readonly executionStatus: string;
      /** The execution's error and cause, when it did not succeed. */
      readonly executionError?: string;
    };

/** Replaces the function the state machine's Tasks invoke, e.g. to crash a pass: `run` is the responder's own. */
type TaskTarget = (
  payload: unknown,
  run: (payload: unknown) => Promise<InvocationOutcome>,
) => Promise<unknown>;

export interface Harness {
  readonly sim: Simulator;
  readonly world: World;
  readonly env: Record<string, string>;
  /** The finding's invocation (like Lambda's: a fresh request id and a deadline), then the execution it started. */
  invoke(event: unknown, options?: { requestId?: string; invocationMs?: number }): Promise<ResponseOutcome>;
  /** One invocation only, as EventBridge or a Task delivers it: no waiting for an execution. */
  trigger(
    event: unknown,
    options?: { requestId?: string; invocationMs?: number },
  ): Promise<InvocationOutcome>;
  /**
   * Invoke, and on a throw retry at once with the same request id (Lambda's async retry without its waits, for
   * tests of what a retry meets rather than when); throws the last error when every attempt threw.
   */
  invokeWithRetries(
    event: unknown,
    retries?: number,
  ): Promise<{ outcome: ResponseOutcome; attempts: number }>;
  /**
   * Runs one invocation of the SERIALIZED responder in a worker thread and terminates it abruptly as soon as
   * `crashWhen` holds for the incident record (polled): a crash at an arbitrary point after a given save.
   */
  invokeAndCrash(
    event: unknown,
    requestId: string,
    crashWhen: (record: IncidentRecord | undefined) => boolean,
    instanceId: string,
  ): Promise<"crashed" | "finished">;
  /** Routes the state machine's Tasks through `target` (undefined: back to the responder). */
  interceptTasks(target: TaskTarget | undefined): void;
  /** Waits until every execution (and every Task invocation) has finished. */
  settle(): Promise<void>;
  record(instanceId: string): Promise<IncidentRecord | undefined>;
  /**
   * A fresh responder (a cold start) with changed settings, sharing the table and the simulator. Settings that
   * come from stack config also change the role's policy: give those keys in `stack` (e.g. replacementRoleArns).
   */
  withSettings(settings: Record<string, string>, stack?: Record<string, string>): Promise<Harness>;
  stop(): Promise<void>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const timeScale = options.timeScale ?? 200;
  const endpoint = await dynamoEndpoint();
  const sim = await startSimulator({
    timeScale,
    latency: { meanMs: 40, jitterMs: 20 },
    dynamodbUpstream: endpoint,
    ...options.simulator,
  });
  const world = buildWorld(sim);
  const table = `incidents-${randomUUID().slice(0, 8)}`;
  const run = await testStackRun();
  await createStackTable(run.one("aws:dynamodb/table:Table"), sim.region, endpoint, table);
  const documents = DynamoDBDocument.from(
    new DynamoDB({
      endpoint,
      region: sim.region,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    }),
  );
  const workflow = await deployWorkflow(run, sim, stackReplacements(run, sim, world, table));
  const base = {
    ...responderSettings(sim, world, table, timeScale),
    STATE_MACHINE_ARN: workflow.stateMachineArn,
    ...(await responderCredentials(sim, world, table)),
    // DynamoDB goes through the simulator's front too: authorized, then passed to dynalite. Named here, in the
    // responder's own environment, so no endpoint another harness or test left behind can take it elsewhere
    // (the bench's worker processes start from such an environment).
    AWS_ENDPOINT_URL_DYNAMODB: sim.endpoint,
    ...options.settings,
  };
  // The handler reads the process environment, as in Lambda; other test files must get theirs back.
  const savedEnvironment = { ...process.env };
  const harness = makeHarness(sim, world, documents, base, options.invocationMs ?? 120_000);
  const stop = harness.stop.bind(harness);
  return {
    ...harness,
    async stop() {
      await stop();
      for (const key of Object.keys(process.env)) if (!(key in savedEnvironment)) delete process.env[key];
      Object.assign(process.env, savedEnvironment);
      // Every scenario must pass IAM as AWS would evaluate it: a denial fails the test that caused it.
      const { denied } = sim.iam.stats;
      if (denied > 0) {
        const listed = deniedRequests(sim.iam.stats).join("; ");
        throw new Error(`IAM denied ${denied} request(s) of the response: ${listed}`);
      }
    },
  };
}

function makeHarness(
  sim: Simulator,
  world: World,
  documents: DynamoDBDocument,
  env: Record<string, string>,
  invocationMs: number,
): Harness {
  // The handler reads its settings and endpoints from the environment, as in Lambda.
  Object.assign(process.env, sim.env(), env);
  const handler = createResponder();
  const inFlight = new Set<Promise<unknown>>();
  let intercept: TaskTarget | undefined;

  const context = (requestId: string, ms: number): LambdaContext => {
    const deadline = Date.now() + ms;
    return {
      awsRequestId: requestId,
      functionName: FUNCTION_NAME,
      invokedFunctionArn: `arn:aws:lambda:${sim.region}:${sim.accountId}:function:${FUNCTION_NAME}`,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    };
  };
  const trigger: Harness["trigger"] = (event, invokeOptions) =>
    handler(
      event,
      context(invokeOptions?.requestId ?? randomUUID(), invokeOptions?.invocationMs ?? invocationMs),
    );
  const run = (payload: unknown) => trigger(payload);
  const record: Harness["record"] = async (instanceId) => {
    const pk = incidentKey(sim.accountId, sim.region, instanceId);
    const dry = env.DRY_RUN === "true" ? `dry-run#${pk}` : pk;
    const answer = await documents.get({
      TableName: env.INCIDENT_TABLE,
      Key: { pk: dry },
      ConsistentRead: true,
    });
    return answer.Item as IncidentRecord | undefined;
  };
  /** The execution a finding's invocation started, followed to its end. */
  const followed = async (outcome: InvocationOutcome): Promise<ResponseOutcome> => {
    if ("step" in outcome) throw new Error(`a finding answered like a step: ${JSON.stringify(outcome)}`);
    if (outcome.outcome !== "started") return outcome;
    const execution = await sim.stepFunctions.waitForExecution(outcome.executionArn);
    const instanceId = instanceIdOfIncident(outcome.incidentId) ?? "";
    const completed = (await record(instanceId))?.status === "completed";
    return {
      outcome: completed ? "completed" : "not-completed",
      incidentId: outcome.incidentId,
      executionArn: outcome.executionArn,
      executionStatus: execution.status,
      ...(execution.error === undefined
        ? {}
        : { executionError: `${execution.error}: ${execution.cause ?? ""}` }),
    };
  };

  // The state machine's Tasks invoke the function synchronously (lambda:invoke): the responder answers them.
  sim.lambda.register(FUNCTION_NAME, (payload) => {
    const answer = intercept === undefined ? run(payload) : intercept(payload, run);
    inFlight.add(answer);
    void answer.finally(() => inFlight.delete(answer)).catch(() => undefined);
    return answer;
  });

  const harness: Harness = {
    sim,
    world,
    env,
    trigger,
    async invoke(event, invokeOptions) {
      return followed(await trigger(event, invokeOptions));
    },
    async invokeWithRetries(event, retries = 2) {
      const delivery = await deliverAsync((requestId) => harness.invoke(event, { requestId }), {
        retryDelaysMs: new Array<number>(retries).fill(0),
        wait: () => Promise.resolve(),
      });
      if (delivery.outcome === undefined) throw delivery.errors.at(-1)!;
      return { outcome: delivery.outcome, attempts: delivery.attempts };
    },
    interceptTasks(target) {
      intercept = target;
    },
    invokeAndCrash(event, requestId, crashWhen, instanceId) {
      return invokeAndCrash({ event, requestId, invocationMs, crashWhen, record: () => record(instanceId) });
    },
    async settle() {
      await sim.stepFunctions.settled();
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    record,
    async withSettings(settings, stack) {
      const credentials =
        stack === undefined ? {} : await responderCredentials(sim, world, env.INCIDENT_TABLE ?? "", stack);
      return makeHarness(sim, world, documents, { ...env, ...credentials, ...settings }, invocationMs);
    },
    async stop() {
      await harness.settle();
      await sim.stop();
    },
  };
  return harness;
}
