// Test harness for the response handler: the AWS simulator (simulator), a real DynamoDB-compatible
// server (dynalite, in-process), and the unmodified handler built by createResponder() from environment
// settings, exactly as Lambda would build it. Timings are simulated: settings are scaled to the time scale.
import { randomUUID } from "crypto";
import type { AddressInfo, Server } from "net";
import * as fs from "fs";
import * as path from "path";
import { Worker } from "worker_threads";

import { DynamoDB } from "@aws-sdk/client-dynamodb";
import { EC2 } from "@aws-sdk/client-ec2";
import { DynamoDBDocument } from "@aws-sdk/lib-dynamodb";

import { deployWorkflow } from "../drill/deployWorkflow";
import { responderIdentity, testStackRun } from "../drill/responderIdentity";
import type { ProgramRun } from "./stackMockRun";
import { deniedRequests } from "../simulator/iam/authorizer";
import { startSimulator, type SimulatorOptions, type Simulator } from "../simulator";
import { securityGroupTags } from "../infra/tagging";
import { createResponder, type InvocationOutcome, type LambdaContext } from "../handler";
import type { IncidentRecord } from "../handler/incidentRecord";
import { incidentKey, instanceIdOfIncident } from "../handler/incidentRecord";

export const FUNCTION_NAME = "ir-responder";

/**
 * One Lambda invocation of the SERIALIZED responder (what Pulumi uploads) in a worker thread, so a test can end
 * it abruptly (worker.terminate()) the way Lambda ends a crashed or timed-out invocation: no finally blocks, no
 * lease release, requests cut mid-flight.
 */
const INVOCATION_WORKER = `
const { parentPort, workerData } = require("worker_threads");
Object.assign(process.env, workerData.env);
const { handler } = require(workerData.artifact);
const deadline = Date.now() + workerData.invocationMs;
handler(workerData.event, {
  awsRequestId: workerData.requestId,
  functionName: "${"ir-responder"}",
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

let dynamo: { server: Server; endpoint: string } | undefined;

/** One dynalite server for the whole run (in memory, port 0); each harness gets its own table. */
async function dynamoEndpoint(): Promise<string> {
  if (dynamo !== undefined) return dynamo.endpoint;
  const dynalite = require("dynalite") as (options: Record<string, unknown>) => Server;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  dynamo = { server, endpoint: `http://127.0.0.1:${port}` };
  return dynamo.endpoint;
}

/** An EC2 client acting as the account's own people or workload (an administrator, not the responder): to set a scene. */
export function workloadOwnerEc2(sim: Simulator): EC2 {
  const env = sim.env();
  return new EC2({
    region: sim.region,
    endpoint: sim.endpoint,
    credentials: {
      accessKeyId: env.AWS_ACCESS_KEY_ID ?? "",
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? "",
    },
  });
}

export async function stopDynamo(): Promise<void> {
  const running = dynamo;
  dynamo = undefined;
  if (running !== undefined) await new Promise<void>((resolve) => running.server.close(() => resolve()));
}

/** Handler settings expressed in simulated seconds, converted to wall seconds for the time scale. */
export function scaledTimings(timeScale: number): Record<string, string> {
  const wall = (simSeconds: number) => String(simSeconds / timeScale);
  return {
    POLL_INTERVAL_SECONDS: wall(2),
    STOP_TIMEOUT_SECONDS: wall(300),
    MEMORY_GRACE_BASE_SECONDS: wall(60),
    MEMORY_GRACE_SECONDS_PER_GIB: wall(15),
    MAX_POLL_INTERVAL_SECONDS: wall(60),
  };
}

export interface World {
  vpcId: string;
  subnetA: string;
  subnetB: string;
  /** A second subnet in the first AZ (ENIs of one instance share its AZ). */
  subnetA2: string;
  untrackGroup: string;
  isolationGroup: string;
  forensicGroup: string;
  appGroup: string;
  quarantineProfileArn: string;
  forensicProfileArn: string;
  appProfile: { arn: string; roleName?: string };
  kdumpImage: string;
  plainImage: string;
  bucket: string;
  topicArn: string;
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
export type TaskTarget = (
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
  /** Invoke, and on a throw retry with the same request id, as Lambda's async retry does (2 retries). */
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

function buildWorld(sim: Simulator): World {
  const { scenario } = sim;
  const vpc = scenario.vpc({
    cidrBlock: "10.20.0.0/16",
    subnets: [
      { availabilityZone: `${sim.region}a`, cidrBlock: "10.20.1.0/24" },
      { availabilityZone: `${sim.region}b`, cidrBlock: "10.20.2.0/24" },
      { availabilityZone: `${sim.region}a`, cidrBlock: "10.20.3.0/24" },
    ],
  });
  const [subnetA, subnetB, subnetA2] = vpc.subnets.map((subnet) => subnet.subnetId) as [
    string,
    string,
    string,
  ];
  const group = (groupName: string, tags: Record<string, string>, ingress: { cidr: string }[] = []) =>
    scenario.securityGroup({ vpcId: vpc.vpcId, groupName, tags, ingress });
  const appProfile = scenario.instanceProfile({ name: "web-app" });
  return {
    vpcId: vpc.vpcId,
    subnetA,
    subnetB,
    subnetA2,
    // Tagged as the stack tags them: the responder's policy lets it use only groups that carry the stack's tag.
    untrackGroup: group("ir-untrack", securityGroupTags("ir-untrack", "untrack"), [{ cidr: "0.0.0.0/0" }]),
    isolationGroup: group("ir-isolation", securityGroupTags("ir-isolation", "isolation")),
    forensicGroup: group("ir-forensic", securityGroupTags("ir-forensic", "forensic"), [
      { cidr: "192.0.2.0/24" },
    ]),
    appGroup: group("web-app", {}, [{ cidr: "0.0.0.0/0" }]),
    quarantineProfileArn: scenario.instanceProfile({ name: "ir-quarantine" }).arn,
    forensicProfileArn: scenario.instanceProfile({ name: "ir-forensic" }).arn,
    appProfile: { arn: appProfile.arn, roleName: appProfile.roleName },
    kdumpImage: scenario.image({ name: "web-app kdump", kdumpReady: true }),
    plainImage: scenario.image({ name: "web-app plain" }),
    bucket: scenario.bucket("ir-evidence"),
    topicArn: scenario.topic("ir-notifications"),
  };
}

/**
 * The responder signs as the Lambda's role: the simulator authorizes each of its calls against the policy the
 * Pulumi program synthesizes, with the stack's names swapped for this harness's.
 */
async function responderCredentials(
  sim: Simulator,
  world: World,
  table: string,
  stack: Record<string, string> = {},
): Promise<Record<string, string>> {
  const run = await testStackRun(stack);
  const identity = responderIdentity(run, sim, FUNCTION_NAME, stackReplacements(run, sim, world, table));
  const credentials = sim.iam.addPrincipal(identity);
  return { AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey };
}

/** The mock run's names of the stack's resources -> this harness's. */
function stackReplacements(
  run: ProgramRun,
  sim: Simulator,
  world: World,
  table: string,
): [mock: string, real: string][] {
  const roleOf = (profile: string) => sim.state.instanceProfile(profile)?.roleNames[0] ?? profile;
  return [
    [`table/${String(run.one("aws:dynamodb/table:Table").state.name)}`, `table/${table}`],
    [String(run.one("aws:s3/bucket:Bucket").state.bucket), world.bucket],
    [String(run.one("aws:sns/topic:Topic").state.arn), world.topicArn],
    [`function:${String(run.one("aws:lambda/function:Function").state.name)}`, `function:${FUNCTION_NAME}`],
    [`role/${String(run.one("aws:iam/role:Role", "forensic").state.name)}`, `role/${roleOf("ir-forensic")}`],
    [
      `role/${String(run.one("aws:iam/role:Role", "quarantine").state.name)}`,
      `role/${roleOf("ir-quarantine")}`,
    ],
  ];
}

function settingsFor(sim: Simulator, world: World, table: string, timeScale: number): Record<string, string> {
  return {
    RESPONDER_ACCOUNT_ID: sim.accountId,
    INCIDENT_TABLE: table,
    EVIDENCE_BUCKET: world.bucket,
    NOTIFICATION_TOPIC_ARN: world.topicArn,
    SEVERITY_THRESHOLD: "7",
    VPC_SECURITY_GROUPS: JSON.stringify({
      [world.vpcId]: {
        untrack: world.untrackGroup,
        isolation: world.isolationGroup,
        forensic: world.forensicGroup,
      },
    }),
    FORENSIC_SOURCE_CIDRS: JSON.stringify(["192.0.2.0/24"]),
    FORENSIC_AMI_ID: world.plainImage,
    FORENSIC_INSTANCE_TYPE: "m6i.large",
    FORENSIC_INSTANCE_PROFILE_ARN: world.forensicProfileArn,
    FORENSIC_SUBNETS: JSON.stringify({
      [`${sim.region}a`]: world.subnetA,
      [`${sim.region}b`]: world.subnetB,
    }),
    QUARANTINE_INSTANCE_PROFILE_ARN: world.quarantineProfileArn,
    DRY_RUN: "false",
    SNAPSHOT_LOCK: "compliance",
    SNAPSHOT_LOCK_DAYS: "30",
    ATTACH_SNAPSHOT_COPIES: "false",
    REPLACEMENT: "launch",
    REVOKE_ROLE_SESSIONS: "true",
    POWERTOOLS_LOG_LEVEL: process.env.HANDLER_TEST_LOG_LEVEL ?? "SILENT",
    POWERTOOLS_SERVICE_NAME: "ec2-incident-response-test",
    ...scaledTimings(timeScale),
  };
}

async function createTable(endpoint: string, region: string, table: string): Promise<DynamoDBDocument> {
  const client = new DynamoDB({
    endpoint,
    region,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  await client.createTable({
    TableName: table,
    AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
    KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
    BillingMode: "PAY_PER_REQUEST",
  });
  return DynamoDBDocument.from(client);
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
  const documents = await createTable(endpoint, sim.region, table);
  const workflow = await deployWorkflow(
    await testStackRun(),
    sim,
    stackReplacements(await testStackRun(), sim, world, table),
  );
  const base = {
    ...settingsFor(sim, world, table, timeScale),
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
      const requestId = randomUUID();
      for (let attempt = 1; ; attempt += 1) {
        try {
          return { outcome: await followed(await trigger(event, { requestId })), attempts: attempt };
        } catch (error) {
          if (attempt > retries) throw error;
        }
      }
    },
    interceptTasks(target) {
      intercept = target;
    },
    async invokeAndCrash(event, requestId, crashWhen, instanceId) {
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
        if (crashWhen(await harness.record(instanceId))) {
          await worker.terminate();
          await ended;
          return "crashed";
        }
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
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
