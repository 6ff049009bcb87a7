// A drill against the built-in AWS simulator: the stack as `pulumi up` would create it (from the program's mock
// run), a realistic web tier, a finding, and the responder's real deployment package answering it in a separate
// process. Times are simulated: the simulator runs `timeScale` times faster than the wall clock and the responder's
// timing settings are divided by the same factor, so every duration reported here is what AWS would take.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { DynamoDBDocument } from "@aws-sdk/lib-dynamodb";
import { load as parseYaml } from "js-yaml";
import { DURATION_SETTINGS, parseSettings } from "../handler/settings";
import { incidentKey, IncidentRecord, STEP_NAMES, StepName, StepRecord } from "../handler/incidentRecord";
import { PROJECT } from "../infra/config";
import { deployToSimulator, DeployedStack } from "./deployToSimulator";
import { matchesEventPattern } from "./eventPattern";
import { artifactFiles, AssetLike, writeArtifact } from "./lambdaArtifact";
import { startDynalite } from "./localDynamo";
import { LocalLambda } from "./localLambda";
import { startSimulator, type Simulator } from "./simulator";
import { runProgram } from "./stackMockRun";

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

export type ProgressEvent =
  | { kind: "phase"; message: string }
  | { kind: "step"; name: StepName; record: StepRecord; atSeconds: number; endSeconds?: number }
  | { kind: "milestone"; name: keyof Milestones; atSeconds: number };

/** Simulated seconds from the moment the responder's code received the finding (after the cold start, which the
 * drill reports separately in wall-clock ms: this machine's CPU is not scaled like AWS's time). */
export interface Milestones {
  isolated?: number;
  evidenceSecured?: number;
  forensicWorkstationReady?: number;
  serviceRestored?: number;
  reported?: number;
}

export interface DrillStep {
  name: StepName;
  status: string;
  startSeconds: number;
  endSeconds?: number;
  attempts: number;
  outcome: string;
}

export interface DrillResult {
  incidentId: string;
  instanceId: string;
  status: string;
  milestones: Milestones;
  steps: DrillStep[];
  outputDir: string;
  invocations: number;
  deadLettered: number;
  coldStartsMs: number[];
  /** Calls the responder made (the drill's own observation calls are not counted). */
  awsCalls: number;
  notification?: string;
}

export const DEFAULT_DRILL_OPTIONS: DrillOptions = {
  stackFile: "Pulumi.dev.yaml",
  timeScale: 10,
  latencyMs: 50,
  outputRoot: "drill-output",
  wallLimitMs: 180_000,
};

const APP_CIDRS = ["10.20.1.0/24", "10.20.2.0/24"];

export async function runDrill(options: DrillOptions): Promise<DrillResult> {
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

  const sim = await startSimulator({ timeScale: options.timeScale, latency: { meanMs: options.latencyMs } });
  const dynamo = await startDynalite();
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "ir-drill-"));
  let lambda: LocalLambda | undefined;
  const logLines: string[] = [];
  try {
    progress({
      kind: "phase",
      message: "simulator: a web tier in an Auto Scaling group behind a target group",
    });
    const workload = buildWebTier(sim, config);
    const stack = await deployToSimulator(run, sim, dynamo.endpoint);

    // The package must not see the repository's node_modules: only what Lambda's runtime and layer provide.
    const artifactDir = path.join(workDir, "task");
    writeArtifact(artifact, artifactDir);
    lambda = new LocalLambda({
      artifactDir,
      environment: drillEnvironment(stack, sim, dynamo.endpoint, options.timeScale),
      functionName: stack.functionName,
      functionArn: stack.functionArn,
      timeoutMs: (stack.timeoutSeconds * 1000) / options.timeScale,
      memoryMb: stack.memoryMb,
      retryDelaysMs: [60_000 / options.timeScale, 120_000 / options.timeScale],
      sourceNodeModules: path.join(root, "node_modules"),
      onLog: (line) => logLines.push(line),
    });
    const responder = lambda;
    sim.lambda.register(stack.functionName, async (payload, invocationType) => {
      if (invocationType === "Event") return responder.invokeAsync(payload).requestId;
      const result = await responder.invoke(payload);
      if (!result.ok) throw new Error(`${result.error.name}: ${result.error.message}`);
      return result.result;
    });

    const event = sim.scenario.findingFor(workload.compromised, {
      source: "ir.drill",
      type: "CryptoCurrency:EC2/BitcoinTool.B!DNS",
      severity: 8,
    });
    if (!matchesEventPattern(stack.eventPattern, event)) {
      throw new Error(
        "the stack's EventBridge rule would not deliver the drill finding: check severityThreshold",
      );
    }
    progress({
      kind: "phase",
      message: `finding delivered for ${workload.compromised} (severity 8, ir.drill)`,
    });
    const deliveredWall = Date.now();
    const deliveredSim = sim.now();
    const delivery = lambda.invokeAsync(event);
    // The clock starts when the handler is called (after the cold start); nothing is recorded before that.
    const origin = () => delivery.firstStartedAtMs ?? deliveredWall;

    const documents = DynamoDBDocument.from(
      new DynamoDBClient({ endpoint: dynamo.endpoint, region: sim.region, credentials: LOCAL_CREDENTIALS }),
    );
    const loadBalancing = new ElasticLoadBalancingV2Client({ ...clientSettings(sim) });
    const key = incidentKey(sim.accountId, sim.region, workload.compromised);
    const seconds = (iso: string) => ((Date.parse(iso) - origin()) * options.timeScale) / 1000;
    const milestones: Milestones = {};
    const reported = new Map<StepName, string>();
    let record: IncidentRecord | undefined;
    let observerCalls = 0;
    let nextHealthCheck = 0;

    const observe = async (): Promise<boolean> => {
      record = (await documents.get({ TableName: stack.tableName, Key: { pk: key } })).Item as
        IncidentRecord | undefined;
      for (const name of STEP_NAMES) {
        const step = record?.steps[name];
        if (!step || step.status === "running" || reported.get(name) === step.status) continue;
        reported.set(name, step.status);
        progress({
          kind: "step",
          name,
          record: step,
          atSeconds: seconds(step.startedAt),
          endSeconds: step.endedAt ? seconds(step.endedAt) : undefined,
        });
      }
      const reach = (name: keyof Milestones, at: number | undefined) => {
        if (at === undefined || milestones[name] !== undefined) return;
        milestones[name] = at;
        progress({ kind: "milestone", name, atSeconds: at });
      };
      const endOf = (name: StepName) => {
        const step = record?.steps[name];
        return step?.status === "done" && step.endedAt ? seconds(step.endedAt) : undefined;
      };
      reach("isolated", endOf("isolateNetwork"));
      reach("evidenceSecured", endOf("snapshotVolumes"));
      reach("forensicWorkstationReady", endOf("attachEvidenceVolumes"));
      reach("reported", endOf("report"));
      // Like a dashboard refreshing every simulated second, once the responder says a replacement is coming.
      if (milestones.serviceRestored === undefined && record?.steps.replacement?.status === "done") {
        if (Date.now() >= nextHealthCheck) {
          nextHealthCheck = Date.now() + 1000 / options.timeScale;
          observerCalls++;
          if (await serviceRestored(loadBalancing, workload)) {
            const originSim = deliveredSim + (origin() - deliveredWall) * options.timeScale;
            reach("serviceRestored", (sim.now() - originSim) / 1000);
          }
        }
      }
      return record?.status === "completed" && milestones.serviceRestored !== undefined;
    };

    const deadline = Date.now() + options.wallLimitMs;
    while (!(await observe())) {
      if (Date.now() > deadline) {
        throw new Error(`the drill did not finish within ${options.wallLimitMs / 1000} s of wall time`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await lambda.settle();
    await observe();
    documents.destroy();
    loadBalancing.destroy();

    const final = record as IncidentRecord;
    const outputDir = path.resolve(options.outputRoot, final.incidentId);
    const notification = sim.state.messages(stack.topicArn).at(-1)?.message;
    writeOutputs(outputDir, sim, stack, final, logLines, notification);
    return {
      incidentId: final.incidentId,
      instanceId: workload.compromised,
      status: final.status,
      milestones,
      steps: STEP_NAMES.flatMap((name) => {
        const step = final.steps[name];
        if (!step) return [];
        return [
          {
            name,
            status: step.status,
            startSeconds: seconds(step.startedAt),
            endSeconds: step.endedAt ? seconds(step.endedAt) : undefined,
            attempts: step.attempts,
            outcome: step.outcome,
          },
        ];
      }),
      outputDir,
      invocations: lambda.asyncInvocations.length,
      deadLettered: lambda.asyncInvocations.filter((i) => i.deadLettered).length,
      coldStartsMs: lambda.coldStartsMs,
      awsCalls: sim.calls.length - observerCalls,
      notification,
    };
  } finally {
    lambda?.stop();
    await sim.stop();
    await dynamo.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

const LOCAL_CREDENTIALS = { accessKeyId: "drill", secretAccessKey: "drill" };

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

interface WebTier {
  compromised: string;
  healthy: string;
  targetGroupArn: string;
}

/** The stack's VPC and forensic subnets as configured, plus an application tier worth responding to. */
function buildWebTier(sim: Simulator, config: Record<string, string>): WebTier {
  const vpcIds = JSON.parse(config[`${PROJECT}:vpcIds`] ?? "[]") as string[];
  const forensicSubnets = JSON.parse(config[`${PROJECT}:forensicSubnets`] ?? "{}") as Record<string, string>;
  const forensicAmiId = config[`${PROJECT}:forensicAmiId`];
  const vpcId = vpcIds[0];
  if (!vpcId || !forensicAmiId)
    throw new Error("the drill needs vpcIds and forensicAmiId in the stack config");
  const zones = [`${sim.region}a`, `${sim.region}b`];
  const vpc = sim.scenario.vpc({
    vpcId,
    cidrBlock: "10.20.0.0/16",
    subnets: [
      ...zones.map((availabilityZone, i) => ({ availabilityZone, cidrBlock: APP_CIDRS[i] })),
      ...Object.entries(forensicSubnets).map(([availabilityZone, subnetId], i) => ({
        subnetId,
        availabilityZone,
        cidrBlock: `10.20.${250 + i}.0/24`,
      })),
    ],
  });
  const appSubnets = vpc.subnets.slice(0, 2).map((s) => s.subnetId);
  sim.scenario.image({ imageId: forensicAmiId, name: "forensic workstation" });
  const imageId = sim.scenario.image({ name: "web-app golden image 2026-10", kdumpReady: true });
  const appGroup = sim.scenario.securityGroup({
    vpcId,
    groupName: "web-app",
    ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidr: "0.0.0.0/0" }],
  });
  const profile = sim.scenario.instanceProfile({ name: "web-app" });
  const targetGroupArn = sim.scenario.targetGroup({ name: "web-app", vpcId, port: 443, protocol: "HTTPS" });
  const template = sim.scenario.launchTemplate({
    name: "web-app",
    imageId,
    instanceType: "m6i.large",
    securityGroupIds: [appGroup],
    instanceProfileArn: profile.arn,
  });
  sim.scenario.autoScalingGroup({
    name: "web-app-asg",
    launchTemplate: template.name,
    subnetIds: appSubnets,
    minSize: 2,
    maxSize: 4,
    targetGroupArns: [targetGroupArn],
  });
  const member = (name: string, subnetId: string, dataGiB: number) =>
    sim.scenario.instance({
      instanceType: "m6i.large",
      imageId,
      subnetId,
      securityGroupIds: [appGroup],
      instanceProfile: profile.name,
      autoScalingGroup: "web-app-asg",
      targetGroupArns: [targetGroupArn],
      rootVolume: { sizeGiB: 8 },
      dataVolumes: [{ sizeGiB: dataGiB }],
      primaryNetworkInterface: { publicIp: "3.120.1.15" },
      tags: { Name: name, "ir:drill": "true" },
      shutdownBehavior: "terminate",
    }).instanceId;
  return {
    compromised: member("web-app-1", appSubnets[0] as string, 100),
    healthy: member("web-app-2", appSubnets[1] as string, 100),
    targetGroupArn,
  };
}

/** Service is restored when the target group again has as many healthy targets as before, none of them the
 * compromised instance: observed through the API, as an operator's dashboard would. */
async function serviceRestored(client: ElasticLoadBalancingV2Client, tier: WebTier): Promise<boolean> {
  const { TargetHealthDescriptions = [] } = await client.send(
    new DescribeTargetHealthCommand({ TargetGroupArn: tier.targetGroupArn }),
  );
  const healthy = TargetHealthDescriptions.filter(
    (d) => d.TargetHealth?.State === "healthy" && d.Target?.Id !== tier.compromised,
  );
  return healthy.length >= 2;
}

function clientSettings(sim: Simulator) {
  return { endpoint: sim.endpoint, region: sim.region, credentials: LOCAL_CREDENTIALS };
}

/** The stack's environment, pointed at the simulator, with every duration divided by the time scale. */
function drillEnvironment(
  stack: DeployedStack,
  sim: Simulator,
  dynamoEndpoint: string,
  timeScale: number,
): Record<string, string> {
  const environment: Record<string, string> = {
    ...stack.environment,
    ...sim.env(),
    AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
    POWERTOOLS_LOG_LEVEL: "INFO",
    // Lambda runs nodejs22.x; this machine's Node 20 would only add the SDK's upgrade notice to the log.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
  const effective = parseSettings(environment);
  for (const [variable, field] of DURATION_SETTINGS) {
    environment[variable] = String((effective[field] as number) / timeScale);
  }
  return environment;
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
