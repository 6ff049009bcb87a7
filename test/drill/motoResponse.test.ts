// A response end to end against moto, a second AWS implementation written by other people: the deployment package
// Pulumi would upload (Pulumi.dev.yaml's mock run), unchanged, in its own process on the Lambda's Node, answers a
// GuardDuty finding about an instance that moto launched with RunInstances. Every AWS call of the response goes to
// moto_server through AWS_ENDPOINT_URL (DynamoDB included) except Step Functions: moto's Step Functions does not run
// Lambda Tasks, so the state machine the program synthesizes (its definition and role policy, testkit/deployWorkflow.ts)
// runs in the project's simulator (simulator), started in moto's account and region, and the package reaches
// it through AWS_ENDPOINT_URL_SFN alone. The package signs as its role (testkit/responderIdentity.ts: the simulator's
// IAM authorizes its StartExecution against the synthesized policy; moto evaluates no policy), the state machine as
// its own role; its Tasks invoke the same package synchronously, once per step pass, and its Wait states hold the
// waits. The test follows the incident to the end of its execution. What moto implements is asserted as AWS would
// show it; what it does not must be recorded and the response go on: GetConsoleScreenshot fails the screenshot
// capture, SendDiagnosticInterrupt's 500 is an NMI of unknown outcome (never sent again, the power-off decides),
// LockSnapshot is not run. `npm run sim:moto` (drill/motoCheck.ts) starts moto_server and sets MOTO_ENDPOINT; without
// it this is skipped. The differences from AWS seen here are in simulator/README.md ("Against moto").
import { createHash, randomUUID } from "crypto";
import * as fs from "fs";
import { createServer, type IncomingMessage, type Server } from "http";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";

import { DynamoDB } from "@aws-sdk/client-dynamodb";
import * as ec2 from "@aws-sdk/client-ec2";
import { IAM } from "@aws-sdk/client-iam";
import { S3 } from "@aws-sdk/client-s3";
import { SFN } from "@aws-sdk/client-sfn";
import { SNS } from "@aws-sdk/client-sns";
import { DynamoDBDocument } from "@aws-sdk/lib-dynamodb";
import { expect } from "chai";

import { deployWorkflow, type DeployedWorkflow } from "../../testkit/deployWorkflow";
import { guardDutyFindingDetail, instanceDetailsOf } from "../../simulator/guardDutyFinding";
import {
  summarizeExecution,
  type ExecutionSummary,
  readExecution as readStepFunctionsExecution,
} from "../../testkit/executionSummary";
import { administratorStepFunctions } from "../../testkit/administrator";
import { artifactFiles, writeArtifact, type AssetLike } from "../../testkit/lambdaArtifact";
import { LocalLambda, type AsyncInvocationRecord, type InvocationResult } from "../../testkit/localLambda";
import { responderIdentity } from "../../testkit/responderIdentity";
import { stackConfigFromFile } from "../../drill/runDrill";
import { startSimulator, type Simulator } from "../../simulator";
import { runProgram, type ProgramRun } from "../../testkit/stackMockRun";
import { incidentKey, type IncidentRecord } from "../../handler/incidentRecord";
import { scaledDurations } from "../../handler/settings";
import { TAG_EVIDENCE_SET, TAG_INCIDENT, TAG_KDUMP_READY, TAG_RESPONDER_MADE } from "../../handler/tags";
import { executionName, WORKFLOW_STEP_NAMES } from "../../handler/workflow";
import type { SecurityGroupRule } from "../../infra/securityGroupRules";
import { PROJECT } from "../../infra/config";

const ROOT = path.join(__dirname, "..", "..");
const REGION = "eu-central-1";
/**
 * How moto's 500 for an action it does not implement reaches the handler: an HTML page the SDK cannot parse. A
 * capture that failed for any other reason is a failure of the response, not a moto gap.
 */
const MOTO_NOT_IMPLEMENTED = /XML parse error|NotImplemented/;
/** Durations (poll interval, grace, stop timeout, ...) run this much faster; moto's own answers are immediate. */
const TIME_SCALE = 10;

interface Clients {
  ec2: ec2.EC2;
  iam: IAM;
  s3: S3;
  sns: SNS;
  dynamodb: DynamoDB;
  documents: DynamoDBDocument;
}

interface World {
  accountId: string;
  vpcId: string;
  appSubnet: string;
  forensicSubnets: Record<string, string>;
  appGroup: string;
  groups: { untrack: string; isolation: string; forensic: string };
  appRole: string;
  quarantineProfileArn: string;
  forensicProfileArn: string;
  instanceId: string;
  networkInterfaceIds: string[];
  volumeIds: string[];
  bucket: string;
  topicArn: string;
  table: string;
}

/** The incident's execution as an operator reads it (DescribeExecution, GetExecutionHistory), with its figures. */
interface ExecutionRead extends ExecutionSummary {
  arn: string;
  status: string;
  /** The history's event types, oldest first. */
  types: string[];
}

const moto = process.env.MOTO_ENDPOINT;

const TITLE =
  "moto: a response end to end against moto_server (the deployment package, AWS_ENDPOINT_URL; Step Functions: the simulator)";

describe(TITLE, function () {
  if (!moto) {
    // One line in `npm test`, not fourteen: the response runs where npm run sim:moto starts moto_server.
    it("skipped: MOTO_ENDPOINT is not set (npm run sim:moto starts moto_server and runs this)");
    return;
  }
  this.timeout(300_000);
  const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };
  const settings = { region: REGION, endpoint: moto, credentials };
  let client: Clients;
  let world: World;
  let lambda: LocalLambda | undefined;
  let sim: Simulator | undefined;
  let workflow: DeployedWorkflow;
  let simTopicArn: string;
  let delivery: AsyncInvocationRecord;
  /** The state machine's Task invocations of the package, as they answered. */
  const tasks: InvocationResult[] = [];
  let execution: ExecutionRead | undefined;
  let record: IncidentRecord;
  let work: string;
  let subscriber: Server | undefined;
  const notifications: { Type?: string; Subject?: string; Message?: string }[] = [];
  const logLines: string[] = [];

  before(async function () {
    const reset = await fetch(`${moto}/moto-api/reset`, { method: "POST" });
    expect(reset.ok, "moto reset").to.equal(true);
    const dynamodb = new DynamoDB(settings);
    client = {
      ec2: new ec2.EC2(settings),
      iam: new IAM(settings),
      s3: new S3({ ...settings, forcePathStyle: true }),
      sns: new SNS(settings),
      dynamodb,
      documents: DynamoDBDocument.from(dynamodb),
    };
    const phases: string[] = [];
    let phaseStart = Date.now();
    const phase = (name: string) => {
      phases.push(`${name} ${((Date.now() - phaseStart) / 1000).toFixed(1)} s`);
      phaseStart = Date.now();
    };
    const config = stackConfigFromFile(path.join(ROOT, "Pulumi.dev.yaml"));
    const run = await runProgram(config);
    phase("stack mock run");
    const fn = run.one("aws:lambda/function:Function");
    work = fs.mkdtempSync(path.join(os.tmpdir(), "ir-moto-"));
    const artifactDir = path.join(work, "task");
    writeArtifact(await artifactFiles(fn.inputs.code as AssetLike, ROOT), artifactDir);

    subscriber = createServer((request, response) => {
      void body(request).then((text) => {
        notifications.push(JSON.parse(text) as (typeof notifications)[number]);
        response.end();
      });
    });
    await new Promise<void>((resolve) => subscriber?.listen(0, "127.0.0.1", resolve));
    const subscriberUrl = `http://127.0.0.1:${(subscriber.address() as AddressInfo).port}/`;

    const built = await buildWorld(client, run, config, subscriberUrl);
    world = built.world;
    phase("stack and workload created in moto");

    // Step Functions in the simulator, in moto's account and region: the ARNs the stack names are moto's. Its clock
    // runs at wall speed (timeScale 1): the Tasks' TimeoutSeconds stays above the package's unscaled timeout, as in
    // the stack; the Wait states wait until the wall-clock times the package asks for.
    sim = await startSimulator({ region: REGION, accountId: world.accountId, timeScale: 1 });
    const functionName = fn.state.name as string;
    const mockAccount = String(fn.state.arn).split(":")[4] ?? "";
    const topic = run.one("aws:sns/topic:Topic");
    // The topic the machine itself notifies when the report fails: same account, region and name as moto's.
    simTopicArn = sim.scenario.topic(topic.state.name as string);
    const swaps: [mock: string, real: string][] = [
      [topic.state.arn as string, simTopicArn],
      [mockAccount, world.accountId],
    ];
    // The definition and the role policy as synthesized; the machine's role registered with that policy.
    workflow = await deployWorkflow(run, sim, swaps);
    // The package signs as its role: StartExecution is authorized against the synthesized policy. moto ignores
    // the credentials (it evaluates no policy; an unknown access key is its default account, the world's).
    const responder = sim.iam.addPrincipal(responderIdentity(run, sim, functionName, swaps));
    phase("workflow deployed in the simulator");

    const environment = responderEnvironment(fn.inputs.environment.variables, built.replacements, world, {
      endpoint: sim.endpoint,
      stateMachineArn: workflow.stateMachineArn,
      credentials: responder,
    });
    lambda = new LocalLambda({
      artifactDir,
      environment,
      functionName,
      functionArn: `arn:aws:lambda:${REGION}:${world.accountId}:function:${functionName}`,
      // Not scaled: the SDK's retries of what moto does not implement take real seconds.
      timeoutMs: 300_000,
      memoryMb: fn.inputs.memorySize as number,
      retryDelaysMs: [1_000, 2_000],
      sourceNodeModules: path.join(ROOT, "node_modules"),
      onLog: (line) => logLines.push(line),
    });
    const local = lambda;
    // The function the machine's Tasks invoke (lambda:invoke on its version: the same target). A function error
    // keeps its type, the Task's Error its Retry and Catch decide on.
    sim.lambda.register(functionName, async (payload, invocationType) => {
      if (invocationType === "Event") return local.invokeAsync(payload).requestId;
      const result = await local.invoke(payload);
      tasks.push(result);
      if (!result.ok) throw Object.assign(new Error(result.error.message), { name: result.error.name });
      return result.result;
    });
    console.log(
      `      moto at ${moto}, Step Functions at ${sim.endpoint}; the package runs on ${lambda.runtimeNode.version}` +
        (lambda.runtimeNode.reason ? ` (${lambda.runtimeNode.reason})` : ""),
    );

    const described = await client.ec2.describeInstances({ InstanceIds: [world.instanceId] });
    const instance = described.Reservations?.[0]?.Instances?.[0] ?? {};
    const type = "CryptoCurrency:EC2/BitcoinTool.B!DNS";
    const detail = {
      ...guardDutyFindingDetail(instanceDetailsOf(instance), {
        accountId: world.accountId,
        region: REGION,
        type,
      }),
      title: `The EC2 instance ${world.instanceId} is querying a domain name associated with Bitcoin activity.`,
      description: `A finding about ${world.instanceId}, sent by test/drill/motoResponse.test.ts.`,
    };
    const event = {
      version: "0",
      id: randomUUID(),
      "detail-type": "GuardDuty Finding",
      source: "aws.guardduty",
      account: world.accountId,
      time: new Date().toISOString(),
      region: REGION,
      resources: [],
      detail,
    };
    phaseStart = Date.now();
    // As EventBridge delivers it: asynchronously, retried twice on an error.
    delivery = lambda.invokeAsync(event);
    await lambda.settle();
    phase("containment");
    const answer = delivery.attempts.at(-1);
    const started = answer?.ok === true ? (answer.result as { executionArn?: unknown }) : undefined;
    if (typeof started?.executionArn === "string") {
      execution = await readExecution(sim, started.executionArn);
      await lambda.settle();
      phase("execution");
    }
    const item = await client.documents.get({
      TableName: world.table,
      Key: { pk: incidentKey(world.accountId, REGION, world.instanceId) },
      ConsistentRead: true,
    });
    record = item.Item as IncidentRecord;
    const steps = Object.entries(record?.steps ?? {})
      .map(([name, step]) => `        ${step.status.padEnd(8)} ${name}: ${step.outcome}`)
      .join("\n");
    const figures =
      execution === undefined
        ? "no execution started"
        : `execution ${execution.status}: ${execution.transitions} state transitions, ` +
          `${tasks.length} Task invocations (${execution.failedTasks} failed), waits ${JSON.stringify(execution.waits)}`;
    console.log(
      `      ${phases.join("; ")}\n      incident ${record?.status ?? "(no record)"} after ` +
        `${delivery.attempts.length} invocation(s) from EventBridge; ${figures}:\n${steps}`,
    );
  });

  after(async () => {
    lambda?.stop();
    await sim?.stop();
    if (client) for (const c of Object.values(client)) c.destroy();
    if (subscriber) await new Promise((resolve) => subscriber?.close(resolve));
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it("the package contained the instance and started the execution in one invocation, without throwing", () => {
    const failures = delivery.attempts.filter((a) => !a.ok);
    expect(failures, logLines.slice(-20).join("\n")).to.deep.equal([]);
    expect(delivery.attempts).to.have.length(1);
    expect(delivery.deadLettered).to.equal(false);
    const name = executionName(record.incidentId);
    const arn = `${workflow.stateMachineArn.replace(":stateMachine:", ":execution:")}:${name}`;
    const answer = delivery.attempts[0];
    expect(answer?.ok === true ? answer.result : undefined).to.deep.equal({
      outcome: "started",
      incidentId: record.incidentId,
      executionArn: arn,
    });
    expect(record.execution?.arn).to.equal(arn);
    expect(record.execution?.name).to.equal(name);
  });

  it("the state machine ran every step to the report: SUCCEEDED, no Task failed, kdump's grace in Wait states", () => {
    expect(execution?.status, logLines.slice(-20).join("\n")).to.equal("SUCCEEDED");
    expect(execution?.types.at(-1)).to.equal("ExecutionSucceeded");
    for (const step of WORKFLOW_STEP_NAMES) expect(execution?.passes[step], step).to.be.at.least(1);
    expect(execution?.passes.report).to.equal(1);
    expect(execution?.failedTasks).to.equal(0);
    expect(tasks.filter((t) => !t.ok)).to.deep.equal([]);
    // Every Task is one synchronous invocation of the package that answered (a pass of a step or the report).
    const passes = Object.values(execution?.passes ?? {}).reduce((sum, n) => sum + n, 0);
    expect(tasks).to.have.length(passes);
    // The NMI's outcome is unknown on moto: captureMemory waits out the grace for a power-off, in Wait states.
    expect(execution?.waits.captureMemory).to.be.at.least(1);
    expect(sim?.state.messages(simTopicArn), "the machine's report-failure notice").to.deep.equal([]);
  });

  it("only Step Functions was the simulator's, its calls authorized by IAM; moto's Step Functions was not used", async () => {
    const calls = sim?.calls ?? [];
    expect([...new Set(calls.map((c) => c.service))]).to.have.members(["states", "lambda"]);
    // The package's one StartExecution, allowed by its role's policy; the Tasks' Invoke by the machine's role.
    const starts = calls.filter((c) => c.action === "StartExecution");
    expect(starts.map((c) => [c.status, c.authorization])).to.deep.equal([[200, "allowed"]]);
    const invokes = calls.filter((c) => c.service === "lambda");
    expect(invokes).to.have.length(tasks.length);
    expect(invokes.filter((c) => c.status !== 200 || c.authorization !== "allowed")).to.deep.equal([]);
    expect(sim?.iam.stats.denied).to.equal(0);
    const motoSfn = new SFN(settings);
    try {
      expect((await motoSfn.listStateMachines({})).stateMachines ?? []).to.deep.equal([]);
    } finally {
      motoSfn.destroy();
    }
  });

  it("the incident is completed in the table (moto's DynamoDB: the claim's conditional write, updates)", () => {
    expect(record?.status).to.equal("completed");
    const done = ["claimIncident", "isolateNetwork", "cutAccess", "stopInstance", "snapshotVolumes"];
    for (const step of done)
      expect(record.steps[step as keyof IncidentRecord["steps"]]?.status, step).to.equal("done");
  });

  it("every ENI was moved into the isolation group and left the untrack group", async () => {
    const { groups } = world;
    const inGroup = async (groupId: string) => {
      const answer = await client.ec2.describeNetworkInterfaces({
        Filters: [{ Name: "group-id", Values: [groupId] }],
      });
      return (answer.NetworkInterfaces ?? []).map((n) => n.NetworkInterfaceId);
    };
    // moto filters group-id on the ENI's own groups: the set ModifyNetworkInterfaceAttribute replaced.
    expect(await inGroup(groups.isolation)).to.have.members(world.networkInterfaceIds);
    expect(await inGroup(groups.untrack)).to.deep.equal([]);
    expect(await inGroup(world.appGroup)).to.not.include.members(world.networkInterfaceIds);
    const described = await client.ec2.describeNetworkInterfaces({
      NetworkInterfaceIds: world.networkInterfaceIds,
    });
    for (const eni of described.NetworkInterfaces ?? []) {
      const shown = (eni.Groups ?? []).map((g) => g.GroupId);
      expect(shown).to.include(groups.isolation);
      // Known moto gap (README): an attached ENI is shown with the union of its own groups and the instance's
      // launch groups, so the application group may still appear here (AWS shows the isolation group alone).
      expect(shown.filter((g) => g !== groups.isolation && g !== world.appGroup)).to.deep.equal([]);
    }
    expect(record.facts.instance?.networkInterfaces.map((n) => n.originalGroupIds)).to.deep.equal(
      world.networkInterfaceIds.map(() => [world.appGroup]),
    );
  });

  it("the instance is tagged with the incident, protected, stopped, volumes kept, IMDS off", async () => {
    const described = await client.ec2.describeInstances({ InstanceIds: [world.instanceId] });
    const instance = described.Reservations?.[0]?.Instances?.[0];
    expect(instance?.Tags).to.deep.include({ Key: TAG_INCIDENT, Value: record.incidentId });
    expect(instance?.State?.Name).to.equal("stopped");
    expect(instance?.MetadataOptions?.HttpEndpoint).to.equal("disabled");
    for (const mapping of instance?.BlockDeviceMappings ?? []) {
      expect(mapping.Ebs?.DeleteOnTermination, mapping.DeviceName).to.equal(false);
    }
    const protection = await client.ec2.describeInstanceAttribute({
      InstanceId: world.instanceId,
      Attribute: "disableApiTermination",
    });
    expect(protection.DisableApiTermination?.Value).to.equal(true);
  });

  it("the instance profile is replaced by the quarantine profile", async () => {
    const answer = await client.ec2.describeIamInstanceProfileAssociations({
      Filters: [{ Name: "instance-id", Values: [world.instanceId] }],
    });
    const associated = (answer.IamInstanceProfileAssociations ?? []).filter((a) => a.State === "associated");
    expect(associated.map((a) => a.IamInstanceProfile?.Arn)).to.deep.equal([world.quarantineProfileArn]);
    expect(record.facts.originalInstanceProfileArn).to.match(/instance-profile\/web-app$/);
    // Not DescribeInstances: a known moto gap (README), it keeps showing the replaced profile (AWS: the new one).
  });

  it("the shutdown behaviour is stop (as moto answers it)", async function () {
    expect(record.facts.shutdownBehaviorStop, "the call was answered").to.equal(true);
    const behaviour = await client.ec2.describeInstanceAttribute({
      InstanceId: world.instanceId,
      Attribute: "instanceInitiatedShutdownBehavior",
    });
    const value = behaviour.InstanceInitiatedShutdownBehavior?.Value;
    if (value !== "stop") {
      // Known moto gap (README): moto does not handle InstanceInitiatedShutdownBehavior.Value; the request falls
      // through to its security-group handler with no groups, which empties the instance's group list.
      console.log(
        `      skipped: moto gap: the shutdown behaviour reads "${value}" after the change was answered`,
      );
      this.skip();
    }
  });

  it("the instance role's older sessions are revoked (an inline deny on aws:TokenIssueTime)", async () => {
    const names = await client.iam.listRolePolicies({ RoleName: world.appRole });
    const documents = await Promise.all(
      (names.PolicyNames ?? []).map(async (PolicyName) => {
        const policy = await client.iam.getRolePolicy({ RoleName: world.appRole, PolicyName });
        return decodeURIComponent(policy.PolicyDocument ?? "");
      }),
    );
    expect(documents.join("\n")).to.match(/aws:TokenIssueTime/);
    expect(record.facts.revokedRoleNames).to.deep.equal([world.appRole]);
  });

  it("one snapshot per volume and set (as found, after the stop), tagged with the incident and the set", async () => {
    const sets = { "as-found": record.facts.asFoundSnapshots, "after-stop": record.facts.snapshots };
    for (const [set, recorded] of Object.entries(sets)) {
      const answer = await client.ec2.describeSnapshots({
        Filters: [
          { Name: `tag:${TAG_INCIDENT}`, Values: [record.incidentId] },
          { Name: `tag:${TAG_EVIDENCE_SET}`, Values: [set] },
        ],
      });
      const snapshots = answer.Snapshots ?? [];
      expect(
        snapshots.map((s) => s.VolumeId),
        set,
      ).to.have.members(world.volumeIds);
      expect(
        recorded?.map((s) => s.snapshotId),
        set,
      ).to.have.members(snapshots.map((s) => s.SnapshotId));
    }
  });

  it("a forensic workstation in the instance's AZ, with the forensic profile and group, holding its volumes", async () => {
    const answer = await client.ec2.describeInstances({
      Filters: [
        { Name: `tag:${TAG_RESPONDER_MADE}`, Values: ["forensic"] },
        { Name: `tag:${TAG_INCIDENT}`, Values: [record.incidentId] },
      ],
    });
    const workstations = (answer.Reservations ?? []).flatMap((r) => r.Instances ?? []);
    expect(workstations).to.have.length(1);
    const workstation = workstations[0];
    expect(workstation?.InstanceId).to.equal(record.facts.forensic?.instanceId);
    expect(workstation?.SubnetId).to.equal(world.forensicSubnets[`${REGION}a`]);
    expect(workstation?.IamInstanceProfile?.Arn).to.equal(world.forensicProfileArn);
    expect((workstation?.SecurityGroups ?? []).map((g) => g.GroupId)).to.deep.equal([world.groups.forensic]);
    const volumes = await client.ec2.describeVolumes({
      Filters: [{ Name: "attachment.instance-id", Values: [workstation?.InstanceId ?? ""] }],
    });
    const attached = (volumes.Volumes ?? []).map((v) => v.VolumeId);
    const evidence = (record.facts.attachments ?? []).map((a) => a.volumeId);
    expect(evidence).to.have.length(world.volumeIds.length);
    expect(attached).to.include.members(evidence);
  });

  it("a replacement was launched with the instance's own groups (replacement: launch)", async () => {
    const answer = await client.ec2.describeInstances({
      Filters: [{ Name: `tag:${TAG_RESPONDER_MADE}`, Values: ["replacement"] }],
    });
    const replacements = (answer.Reservations ?? []).flatMap((r) => r.Instances ?? []);
    expect(replacements.map((i) => i.InstanceId)).to.deep.equal([record.facts.replacement?.instanceId]);
    expect((replacements[0]?.SecurityGroups ?? []).map((g) => g.GroupId)).to.deep.equal([world.appGroup]);
  });

  it("the evidence and the report are in the bucket, each with the SHA-256 the record names", async () => {
    const evidence = record.facts.evidence ?? [];
    expect(evidence.length).to.be.at.least(3);
    for (const object of evidence) {
      const got = await client.s3.getObject({ Bucket: world.bucket, Key: object.key });
      const bytes = await got.Body?.transformToByteArray();
      expect(
        createHash("sha256")
          .update(bytes ?? new Uint8Array())
          .digest("hex"),
        object.key,
      ).to.equal(object.sha256);
    }
    const report = record.facts.report;
    expect(report?.messageId, "the notification was sent").to.be.a("string");
    const json = await client.s3.getObject({ Bucket: world.bucket, Key: report?.jsonKey });
    expect(await json.Body?.transformToString()).to.contain(world.instanceId);
  });

  it("the notification reached the topic's subscriber", () => {
    const messages = notifications.filter((n) => n.Type === "Notification");
    expect(messages.length).to.be.at.least(1);
    expect(messages.at(-1)?.Message).to.contain(world.instanceId);
    expect(record.facts.report?.messageId).to.be.a("string");
  });

  it("what moto does not implement is recorded, and the response went on: NMI outcome unknown, screenshot failed", () => {
    // moto answers SendDiagnosticInterrupt and GetConsoleScreenshot with 500 and an HTML page (NotImplementedError).
    // A 500 leaves the NMI's outcome unknown (handler/steps/captureMemory.ts): never sent again, the wait for
    // kdump's power-off decides, and it ends at the grace; the step is done, its reason says why.
    expect(record.facts.memory?.method).to.equal("nmi");
    expect(record.steps.captureMemory?.status).to.equal("done");
    expect(record.steps.captureMemory?.outcome).to.match(/no power-off within/);
    expect(record.facts.memory?.reason).to.match(/NMI outcome unknown/);
    expect(record.facts.memory?.reason).to.match(MOTO_NOT_IMPLEMENTED);
    expect(record.facts.memory?.poweredOff, "no kdump power-off without an NMI").to.equal(false);
    const capture = record.steps.captureEvidence;
    expect(capture?.status).to.equal("failed");
    expect(capture?.detail?.stored).to.include("console-output");
    expect((capture?.detail?.problems as Record<string, string>)?.screenshot).to.match(MOTO_NOT_IMPLEMENTED);
    expect((record.facts.evidence ?? []).map((e) => e.kind)).to.not.include("screenshot");
    for (const step of ["stopInstance", "snapshotVolumes", "attachEvidenceVolumes", "report"] as const) {
      expect(record.steps[step]?.status, step).to.equal("done");
    }
  });

  it("LockSnapshot: not run (moto does not implement it; SNAPSHOT_LOCK=none here, governance in the stack)");
});

async function body(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * The stack's resources (from the mock run) created in moto with real calls, beside an application instance worth
 * responding to. Gives the mock value -> moto value of every id and ARN the responder's environment names.
 */
async function buildWorld(
  client: Clients,
  run: ProgramRun,
  config: Record<string, string>,
  subscriberUrl: string,
): Promise<{ world: World; replacements: Map<string, string> }> {
  const replacements = new Map<string, string>();
  const [configVpc] = JSON.parse(config[`${PROJECT}:vpcIds`] ?? "[]") as string[];
  const configSubnets = JSON.parse(config[`${PROJECT}:forensicSubnets`] ?? "{}") as Record<string, string>;
  const configAmi = config[`${PROJECT}:forensicAmiId`] ?? "";

  const vpc = await client.ec2.createVpc({ CidrBlock: "10.20.0.0/16" });
  const vpcId = vpc.Vpc?.VpcId ?? "";
  replacements.set(configVpc ?? "", vpcId);
  const subnet = async (cidr: string, zone: string) =>
    (await client.ec2.createSubnet({ VpcId: vpcId, CidrBlock: cidr, AvailabilityZone: zone })).Subnet
      ?.SubnetId ?? "";
  const appSubnet = await subnet("10.20.1.0/24", `${REGION}a`);
  const forensicSubnets: Record<string, string> = {};
  for (const [i, [zone, configId]] of Object.entries(configSubnets).entries()) {
    forensicSubnets[zone] = await subnet(`10.20.${250 + i}.0/24`, zone);
    replacements.set(configId, forensicSubnets[zone]);
  }

  const groups: Record<string, string> = {};
  for (const group of run.ofType("aws:ec2/securityGroup:SecurityGroup")) {
    const tags = group.inputs.tags as Record<string, string>;
    const created = await client.ec2.createSecurityGroup({
      VpcId: vpcId,
      GroupName: group.state.name as string,
      Description: group.inputs.description as string,
      TagSpecifications: [
        {
          ResourceType: "security-group",
          Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
        },
      ],
    });
    const groupId = created.GroupId ?? "";
    const permissions = (rules: SecurityGroupRule[]) =>
      rules.map((rule) => ({
        IpProtocol: rule.protocol,
        FromPort: rule.fromPort,
        ToPort: rule.toPort,
        IpRanges: (rule.cidrBlocks ?? []).map((CidrIp) => ({ CidrIp })),
        Ipv6Ranges: (rule.ipv6CidrBlocks ?? []).map((CidrIpv6) => ({ CidrIpv6 })),
      }));
    const ingress = permissions(group.inputs.ingress as SecurityGroupRule[]);
    if (ingress.length)
      await client.ec2.authorizeSecurityGroupIngress({ GroupId: groupId, IpPermissions: ingress });
    // As the provider does: EC2's default allow-all egress replaced by the stack's list (none for isolation).
    await client.ec2.revokeSecurityGroupEgress({
      GroupId: groupId,
      IpPermissions: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
    });
    const egress = permissions(group.inputs.egress as SecurityGroupRule[]);
    if (egress.length)
      await client.ec2.authorizeSecurityGroupEgress({ GroupId: groupId, IpPermissions: egress });
    replacements.set(group.state.id as string, groupId);
    groups[tags["ir:role"] ?? ""] = groupId;
  }

  const trust = JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
  });
  const profile = async (name: string, roleName: string): Promise<string> => {
    await client.iam.createRole({ RoleName: roleName, AssumeRolePolicyDocument: trust });
    const created = await client.iam.createInstanceProfile({ InstanceProfileName: name });
    await client.iam.addRoleToInstanceProfile({ InstanceProfileName: name, RoleName: roleName });
    return created.InstanceProfile?.Arn ?? "";
  };
  const profiles: Record<string, string> = {};
  for (const stackProfile of run.ofType("aws:iam/instanceProfile:InstanceProfile")) {
    const arn = await profile(stackProfile.state.name as string, stackProfile.inputs.role as string);
    replacements.set(stackProfile.state.arn as string, arn);
    profiles[stackProfile.state.name as string] = arn;
  }

  const bucket = run.one("aws:s3/bucket:Bucket").state.bucket as string;
  await client.s3.createBucket({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: REGION } });
  await client.s3.putBucketVersioning({ Bucket: bucket, VersioningConfiguration: { Status: "Enabled" } });
  const topic = run.one("aws:sns/topic:Topic");
  const topicArn = (await client.sns.createTopic({ Name: topic.state.name as string })).TopicArn ?? "";
  replacements.set(topic.state.arn as string, topicArn);
  await client.sns.subscribe({ TopicArn: topicArn, Protocol: "http", Endpoint: subscriberUrl });

  const table = run.one("aws:dynamodb/table:Table");
  const attributes = table.inputs.attributes as { name: string; type: "S" | "N" | "B" }[];
  await client.dynamodb.createTable({
    TableName: table.state.name as string,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: attributes.map((a) => ({ AttributeName: a.name, AttributeType: a.type })),
    KeySchema: [{ AttributeName: table.inputs.hashKey as string, KeyType: "HASH" }],
  });

  // One of moto's own Linux AMIs for both the application and the forensic workstation.
  const images = await client.ec2.describeImages({
    Owners: ["amazon"],
    Filters: [
      { Name: "architecture", Values: ["x86_64"] },
      { Name: "root-device-type", Values: ["ebs"] },
    ],
  });
  const image = (images.Images ?? []).find(
    (i) => i.Platform === undefined && /amzn|ubuntu/i.test(i.Name ?? ""),
  );
  const imageId = image?.ImageId ?? "";
  expect(imageId, "a Linux AMI in moto").to.match(/^ami-/);
  replacements.set(configAmi, imageId);

  const app = await client.ec2.createSecurityGroup({
    VpcId: vpcId,
    GroupName: "web-app",
    Description: "web",
  });
  const appGroup = app.GroupId ?? "";
  await client.ec2.authorizeSecurityGroupIngress({
    GroupId: appGroup,
    IpPermissions: [{ IpProtocol: "tcp", FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
  });
  const appRole = "web-app";
  await profile("web-app", appRole);
  const launched = await client.ec2.runInstances({
    ImageId: imageId,
    InstanceType: "m6i.large",
    MinCount: 1,
    MaxCount: 1,
    SubnetId: appSubnet,
    SecurityGroupIds: [appGroup],
    IamInstanceProfile: { Name: "web-app" },
    BlockDeviceMappings: [
      { DeviceName: "/dev/xvda", Ebs: { VolumeSize: 8, DeleteOnTermination: true } },
      { DeviceName: "/dev/sdf", Ebs: { VolumeSize: 100, DeleteOnTermination: true } },
    ],
    InstanceInitiatedShutdownBehavior: "terminate",
    TagSpecifications: [
      {
        ResourceType: "instance",
        Tags: [
          { Key: "Name", Value: "web-app-1" },
          { Key: TAG_KDUMP_READY, Value: "true" },
        ],
      },
    ],
  });
  const instance = launched.Instances?.[0];
  const instanceId = instance?.InstanceId ?? "";
  const running = await client.ec2.describeInstances({ InstanceIds: [instanceId] });
  const live = running.Reservations?.[0]?.Instances?.[0];
  expect(live?.State?.Name, "moto started the instance").to.equal("running");
  return {
    replacements,
    world: {
      accountId: running.Reservations?.[0]?.OwnerId ?? "",
      vpcId,
      appSubnet,
      forensicSubnets,
      appGroup,
      groups: {
        untrack: groups.untrack ?? "",
        isolation: groups.isolation ?? "",
        forensic: groups.forensic ?? "",
      },
      appRole,
      quarantineProfileArn: Object.entries(profiles).find(([name]) => name.includes("quarantine"))?.[1] ?? "",
      forensicProfileArn: Object.entries(profiles).find(([name]) => name.includes("forensic"))?.[1] ?? "",
      instanceId,
      networkInterfaceIds: (live?.NetworkInterfaces ?? []).map((n) => n.NetworkInterfaceId ?? ""),
      volumeIds: (live?.BlockDeviceMappings ?? []).map((b) => b.Ebs?.VolumeId ?? ""),
      bucket,
      topicArn,
      table: table.state.name as string,
    },
  };
}

/**
 * The incident's execution once it is over, read through the real SFN client as an operator reads it (the
 * simulator's administrator): DescribeExecution and every page of GetExecutionHistory.
 */
async function readExecution(sim: Simulator, executionArn: string): Promise<ExecutionRead> {
  await sim.stepFunctions.waitForExecution(executionArn);
  const client = administratorStepFunctions(sim);
  try {
    const { status, events } = await readStepFunctionsExecution(client, executionArn);
    return {
      arn: executionArn,
      status,
      types: events.map((e) => e.type ?? ""),
      ...summarizeExecution(events),
    };
  } finally {
    client.destroy();
  }
}

/**
 * The stack's environment with moto's ids, pointed at moto, durations divided by TIME_SCALE; Step Functions (the
 * state machine deployed in the simulator) alone at the simulator, with the credentials of the responder's role there.
 */
function responderEnvironment(
  variables: Record<string, string>,
  replacements: Map<string, string>,
  world: World,
  stepFunctions: {
    endpoint: string;
    stateMachineArn: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
  },
): Record<string, string> {
  const environment: Record<string, string> = Object.fromEntries(
    Object.entries(variables).map(([name, value]) => [
      name,
      // Longest first: the mock group ids contain the VPC id.
      [...replacements]
        .filter(([mock]) => mock !== "")
        .sort(([a], [b]) => b.length - a.length)
        .reduce((text, [mock, real]) => text.split(mock).join(real), value),
    ]),
  );
  Object.assign(environment, {
    RESPONDER_ACCOUNT_ID: world.accountId,
    // moto does not implement LockSnapshot (500): the stack's governance lock would fail every snapshot step.
    SNAPSHOT_LOCK: "none",
    AWS_REGION: REGION,
    AWS_ENDPOINT_URL: moto ?? "",
    // The SDK's service id for Step Functions is "SFN": AWS_ENDPOINT_URL_SFN overrides AWS_ENDPOINT_URL for it alone.
    AWS_ENDPOINT_URL_SFN: stepFunctions.endpoint,
    STATE_MACHINE_ARN: stepFunctions.stateMachineArn,
    AWS_ACCESS_KEY_ID: stepFunctions.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: stepFunctions.credentials.secretAccessKey,
    POWERTOOLS_LOG_LEVEL: "INFO",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  });
  return { ...environment, ...scaledDurations(environment, TIME_SCALE) };
}
