// A drill against the built-in AWS simulator: the stack as `pulumi up` would create it (from the program's mock
// run), a realistic web tier, and the responder's real deployment package answering in a separate process. The
// finding takes the path a live drill takes (PutEvents on the default bus, the stack's rule, an async invocation):
// drill/liveDrill.ts is the same drill pointed at a deployed stack. Times are simulated: the simulator runs
// `timeScale` times faster than the wall clock and the responder's durations are divided by the same factor.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EC2Client } from "@aws-sdk/client-ec2";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { DynamoDBDocument } from "@aws-sdk/lib-dynamodb";
import { load as parseYaml } from "js-yaml";
import { scaledDurations } from "../handler/settings";
import { incidentKey, IncidentRecord } from "../handler/incidentRecord";
import { responseOrigin, secondsBetween } from "../handler/steps/report";
import { PROJECT } from "../infra/config";
import { deployToSimulator, DeployedStack } from "../testkit/deployToSimulator";
import { putDrillFinding } from "./drillFinding";
import { readExecution, summarizeExecution, type ExecutionSummary } from "../testkit/executionSummary";
import { DrillStep, followIncident, Milestones, ProgressEvent, stepsOf } from "./followIncident";
import { artifactFiles, AssetLike, writeArtifact } from "../testkit/lambdaArtifact";
import { LocalDynamo, startDynalite } from "../testkit/localDynamo";
import { AsyncInvocationRecord, LocalLambda } from "../testkit/localLambda";
import { administratorStepFunctions } from "../testkit/administrator";
import { startSimulator, type Simulator } from "../simulator";
import { responderIdentity } from "../testkit/responderIdentity";
import { buildWebTier, serviceRestored, type WebTier } from "./webTier";
import { deniedRequests } from "../simulator/iam/authorizer";
import { runProgram } from "../testkit/stackMockRun";

export interface DrillOptions {
  /** Pulumi stack file whose config the drill deploys (default Pulumi.dev.yaml). */
  stackFile: string;
  /** Simulated seconds per wall second. */
  timeScale: number;
  /** Simulated latency of every AWS call, in ms. */
  latencyMs: number;
  /** Where the report, timeline, call log and responder log go. */
  outputRoot: string;
  /** Give up after this much wall time. */
  wallLimitMs: number;
  onProgress?: (event: ProgressEvent) => void;
}

export interface DrillResult {
  incidentId: string;
  instanceId: string;
  status: string;
  /** Simulated seconds from the moment the responder's code received the finding (after its cold start, which
   * is reported separately in wall-clock ms: this machine's CPU is not scaled like AWS's time). */
  milestones: Milestones;
  steps: DrillStep[];
  outputDir: string;
  invocations: number;
  deadLettered: number;
  coldStartsMs: number[];
  /** Calls the responder made (the drill's own calls are not counted). */
  awsCalls: number;
  /** IAM evaluation of every call the simulator served, and each denial ("action on resource"). */
  iam: { evaluated: number; denied: number; denials: string[] };
  /** The Step Functions execution that ran the response after containment, read from its history. */
  execution?: { name: string; arn: string; status: string; consoleUrl: string } & ExecutionSummary;
  notification?: string;
  /** The triage on the workstation as the record holds it (simulated: the summary says so). */
  triage?: IncidentRecord["facts"]["triage"];
}

export const DEFAULT_DRILL_OPTIONS: DrillOptions = {
  stackFile: "Pulumi.dev.yaml",
  timeScale: 10,
  latencyMs: 50,
  outputRoot: "drill-output",
  wallLimitMs: 180_000,
};

/** The stack deployed into a fresh simulator, with its responder running from the deployment package. */
export interface LocalStack {
  sim: Simulator;
  dynamo: LocalDynamo;
  stack: DeployedStack;
  lambda: LocalLambda;
  workload: WebTier;
  /** Asynchronous invocations EventBridge (or the responder itself) made, oldest first. */
  deliveries: AsyncInvocationRecord[];
  logLines: string[];
  /** SDK client settings that reach the simulator (DynamoDB: dynalite). */
  clientSettings(service?: "dynamodb"): { endpoint: string; region: string; credentials: Credentials };
  stop(): Promise<void>;
}

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export async function startLocalStack(
  options: Pick<DrillOptions, "stackFile" | "timeScale" | "latencyMs" | "onProgress">,
): Promise<LocalStack> {
  const progress = options.onProgress ?? (() => undefined);
  const root = path.resolve(__dirname, "..");
  progress({
    kind: "phase",
    message: `stack: running index.ts in Pulumi's mock mode with ${options.stackFile}`,
  });
  const config = stackConfigFromFile(path.resolve(root, options.stackFile));
  const run = await runProgram(config);
  const artifact = await artifactFiles(
    run.one("aws:lambda/function:Function").inputs.code as AssetLike,
    root,
  );

  const dynamo = await startDynalite();
  const sim = await startSimulator({
    timeScale: options.timeScale,
    latency: { meanMs: options.latencyMs },
    dynamodbUpstream: dynamo.endpoint,
  });
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "ir-drill-"));
  progress({
    kind: "phase",
    message: "simulator: a web tier in an Auto Scaling group behind a target group",
  });
  const workload = buildWebTier(sim, config);
  const stack = await deployToSimulator(run, sim, dynamo.endpoint);
  // The responder signs as its role: every call is authorized against the policy the program synthesized.
  const responder = sim.iam.addPrincipal(responderIdentity(run, sim, stack.functionName, []));

  // The package must not see the repository's node_modules: only what Lambda's runtime and layer provide.
  const artifactDir = path.join(workDir, "task");
  writeArtifact(artifact, artifactDir);
  const logLines: string[] = [];
  const lambda = new LocalLambda({
    artifactDir,
    environment: drillEnvironment(stack, sim, responder, options.timeScale),
    functionName: stack.functionName,
    functionArn: stack.functionArn,
    timeoutMs: (stack.timeoutSeconds * 1000) / options.timeScale,
    memoryMb: stack.memoryMb,
    retryDelaysMs: [60_000 / options.timeScale, 120_000 / options.timeScale],
    sourceNodeModules: path.join(root, "node_modules"),
    onLog: (line) => logLines.push(line),
  });
  sim.lambda.register(stack.functionName, async (payload, invocationType) => {
    if (invocationType === "Event") return lambda.invokeAsync(payload).requestId;
    // Synchronous: the state machine's Tasks. A function error keeps its type (the Task's Error, for its Retry).
    const result = await lambda.invoke(payload);
    if (!result.ok) throw Object.assign(new Error(result.error.message), { name: result.error.name });
    return result.result;
  });
  // The stack's own rule, with its own pattern, on the simulator's default bus.
  sim.events.rule("findings", stack.eventPattern, stack.functionName);

  const env = sim.env();
  const credentials = {
    accessKeyId: env.AWS_ACCESS_KEY_ID ?? "",
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? "",
  };
  return {
    sim,
    dynamo,
    stack,
    lambda,
    workload,
    deliveries: lambda.asyncInvocations,
    logLines,
    clientSettings: (service) => ({
      endpoint: service === "dynamodb" ? dynamo.endpoint : sim.endpoint,
      region: sim.region,
      credentials,
    }),
    async stop() {
      lambda.stop();
      await sim.stop();
      await dynamo.stop();
      fs.rmSync(workDir, { recursive: true, force: true });
    },
  };
}

export async function runDrill(options: DrillOptions): Promise<DrillResult> {
  const progress = options.onProgress ?? (() => undefined);
  const local = await startLocalStack(options);
  const { sim, stack, lambda, workload } = local;
  const ec2 = new EC2Client(local.clientSettings());
  const events = new EventBridgeClient(local.clientSettings());
  const loadBalancing = new ElasticLoadBalancingV2Client(local.clientSettings());
  const documents = DynamoDBDocument.from(new DynamoDBClient(local.clientSettings("dynamodb")));
  try {
    const callsBefore = sim.calls.length;
    await putDrillFinding(ec2, events, workload.compromised, sim.region);
    const drillCalls = sim.calls.length - callsBefore;
    const deliveredWall = Date.now();
    const deliveredSim = sim.now();
    progress({
      kind: "phase",
      message: `finding on the event bus for ${workload.compromised} (severity 8, ir.drill)`,
    });
    if (sim.events.delivered().length === 0) {
      throw new Error(
        "the stack's EventBridge rule did not match the drill finding: check severityThreshold",
      );
    }

    // The report's clock: simulated seconds from the handler receiving the finding (after the cold start).
    const toSeconds = (iso: string, record: IncidentRecord) =>
      secondsBetween(responseOrigin(record), iso, options.timeScale);
    let observerCalls = 0;
    let nextHealthCheck = 0;
    const { record, milestones } = await followIncident({
      documents,
      tableName: stack.tableName,
      incidentKey: incidentKey(sim.accountId, sim.region, workload.compromised),
      toSeconds,
      onProgress: progress,
      // Like a dashboard refreshing every simulated second, once the responder says a replacement is coming.
      serviceRestoredAt: async (current: IncidentRecord) => {
        if (current.steps.replacement?.status !== "done" || Date.now() < nextHealthCheck) return undefined;
        nextHealthCheck = Date.now() + 1000 / options.timeScale;
        observerCalls++;
        if (!(await serviceRestored(loadBalancing, workload))) return undefined;
        const originWall = Date.parse(responseOrigin(current));
        const originSim = deliveredSim + (originWall - deliveredWall) * options.timeScale;
        return (sim.now() - originSim) / 1000;
      },
      wallLimitMs: options.wallLimitMs,
      pollMs: 50,
    });
    await lambda.settle();
    const execution = await executionOf(local, record);

    const outputDir = path.resolve(options.outputRoot, record.incidentId);
    const notification = sim.state.messages(stack.topicArn).at(-1)?.message;
    writeOutputs(outputDir, sim, stack, record, local.logLines, notification);
    return {
      incidentId: record.incidentId,
      instanceId: workload.compromised,
      status: record.status,
      milestones,
      steps: stepsOf(record, toSeconds),
      outputDir,
      invocations: local.deliveries.length,
      deadLettered: local.deliveries.filter((i) => i.deadLettered).length,
      coldStartsMs: lambda.coldStartsMs,
      awsCalls: sim.calls.length - observerCalls - drillCalls,
      iam: iamSummary(sim),
      ...(execution === undefined ? {} : { execution }),
      notification,
      triage: record.facts.triage,
    };
  } catch (error) {
    // A response stopped by IAM usually ends this way: say what was denied.
    const { evaluated, denied, denials } = iamSummary(sim);
    const detail = `IAM: ${evaluated} calls evaluated, ${denied} denied${denials.map((d) => `; denied: ${d}`).join("")}`;
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${detail}`, { cause: error });
  } finally {
    for (const client of [ec2, events, loadBalancing, documents]) client.destroy();
    await local.stop();
  }
}

/** The incident's execution as an operator reads it: DescribeExecution and GetExecutionHistory, all pages. */
async function executionOf(local: LocalStack, record: IncidentRecord): Promise<DrillResult["execution"]> {
  const link = record.execution;
  if (link === undefined) return undefined;
  await local.sim.stepFunctions.waitForExecution(link.arn);
  const client = administratorStepFunctions(local.sim);
  try {
    const { status, events } = await readExecution(client, link.arn);
    return {
      name: link.name,
      arn: link.arn,
      status,
      consoleUrl: link.consoleUrl,
      ...summarizeExecution(events),
    };
  } finally {
    client.destroy();
  }
}

function iamSummary(sim: Simulator): DrillResult["iam"] {
  const { evaluated, denied } = sim.iam.stats;
  return { evaluated, denied, denials: deniedRequests(sim.iam.stats) };
}

/** Stack config as `pulumi config` would hand it to the program: `namespace:key` -> string (JSON for structures). */
export function stackConfigFromFile(file: string): Record<string, string> {
  const document = parseYaml(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> };
  return Object.fromEntries(
    Object.entries(document.config ?? {}).map(([key, value]) => [
      key.includes(":") ? key : `${PROJECT}:${key}`,
      typeof value === "string" ? value : JSON.stringify(value),
    ]),
  );
}

/** The stack's environment, pointed at the simulator, with every duration divided by the time scale. */
function drillEnvironment(
  stack: DeployedStack,
  sim: Simulator,
  credentials: Credentials,
  timeScale: number,
): Record<string, string> {
  const environment: Record<string, string> = {
    ...stack.environment,
    ...sim.env(),
    // DynamoDB too goes through the simulator's front (authorized, then passed to dynalite).
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    POWERTOOLS_LOG_LEVEL: "INFO",
    // Lambda runs nodejs22.x; this machine's Node 20 would only add the SDK's upgrade notice to the log.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    // The report and the notification give simulated seconds, like the drill's timeline.
    TIME_SCALE: String(timeScale),
  };
  return { ...environment, ...scaledDurations(environment, timeScale) };
}

function writeOutputs(
  outputDir: string,
  sim: Simulator,
  stack: DeployedStack,
  record: IncidentRecord,
  logLines: string[],
  notification: string | undefined,
): void {
  fs.mkdirSync(outputDir, { recursive: true });
  const report = record.facts.report;
  for (const [key, file] of [
    [report?.jsonKey, "report.json"],
    [report?.markdownKey, "report.md"],
  ] as const) {
    const object = key ? sim.state.object(stack.bucketName, key) : undefined;
    if (object) fs.writeFileSync(path.join(outputDir, file), object.body);
  }
  fs.writeFileSync(path.join(outputDir, "incident-record.json"), JSON.stringify(record, null, 2));
  fs.writeFileSync(path.join(outputDir, "aws-calls.json"), JSON.stringify(sim.calls, null, 2));
  fs.writeFileSync(path.join(outputDir, "responder.log"), logLines.join("\n") + "\n");
  if (notification) fs.writeFileSync(path.join(outputDir, "notification.txt"), notification);
}
