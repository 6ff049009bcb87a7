// Systems Manager Run Command through the real SDK client: documents, SendCommand's refusals, the invocation's
// states, the simulated ir-triage run and what it uploads, and IAM on the document and the instance's tags.
import * as ssm from "@aws-sdk/client-ssm";
import { expect } from "chai";
import { startSimulator, type Simulator } from "../../simulator";
import { SSM_TIMINGS } from "../../simulator/services/ssm";
import { TRIAGE_PROGRAM, TRIAGE_TIMINGS } from "../../simulator/services/ssmPrograms";

const DOCUMENT = JSON.stringify({
  schemaVersion: "2.2",
  description: "test",
  parameters: {
    IncidentId: { type: "String", allowedPattern: "^[A-Za-z0-9-]+$" },
    EvidenceBucket: { type: "String" },
    Volumes: { type: "String" },
    HashBudgetSeconds: { type: "String", default: "600" },
  },
  mainSteps: [
    {
      action: "aws:runShellScript",
      name: "triage",
      inputs: { timeoutSeconds: 3600, runCommand: [`${TRIAGE_PROGRAM} --incident {{ IncidentId }}`] },
    },
  ],
});

describe("simulator Systems Manager Run Command (real client)", function () {
  let sim: Simulator;
  let client: ssm.SSMClient;
  let workstation: string;
  let imageId: string;
  let evidenceVolume: string;

  beforeEach(async function () {
    sim = await startSimulator({ timeScale: 0 });
    client = new ssm.SSMClient({
      endpoint: sim.endpoint,
      region: sim.region,
      maxAttempts: 1,
      credentials: {
        accessKeyId: sim.env().AWS_ACCESS_KEY_ID!,
        secretAccessKey: sim.env().AWS_SECRET_ACCESS_KEY!,
      },
    });
    const { subnets } = sim.scenario.vpc();
    const subnetId = subnets[0]!.subnetId;
    imageId = sim.scenario.image({ name: "workstation" });
    sim.scenario.instanceProfile({ name: "forensic", roleName: "forensic" });
    workstation = sim.scenario.instance({
      imageId,
      subnetId,
      instanceProfile: "forensic",
      tags: { "ir:responder-made": "forensic" },
    }).instanceId;
    const victim = sim.scenario.instance({ subnetId, dataVolumes: [{ sizeGiB: 100 }] });
    evidenceVolume = victim.volumeIds[1]!;
    sim.scenario.bucket("evidence");
    await client.send(
      new ssm.CreateDocumentCommand({
        Name: "ir-triage",
        Content: DOCUMENT,
        DocumentType: "Command",
        DocumentFormat: "JSON",
      }),
    );
  });
  afterEach(async function () {
    client.destroy();
    await sim.stop();
  });

  const send = (instanceId = workstation, parameters: Record<string, string[]> = {}) =>
    client.send(
      new ssm.SendCommandCommand({
        DocumentName: "ir-triage",
        InstanceIds: [instanceId],
        Parameters: {
          IncidentId: ["inc-1"],
          EvidenceBucket: ["evidence"],
          Volumes: [evidenceVolume],
          ...parameters,
        },
        TimeoutSeconds: 600,
      }),
    );
  const look = (commandId: string) =>
    client.send(new ssm.GetCommandInvocationCommand({ CommandId: commandId, InstanceId: workstation }));
  const codeOf = async (promise: Promise<unknown>) =>
    promise.then(
      () => "no error",
      (error: { name?: string }) => error.name,
    );

  it("refuses a missing document, an unmanaged instance, unknown and missing parameters, as AWS does", async function () {
    sim.ssm.agentImage(imageId, [TRIAGE_PROGRAM]);
    expect(
      await codeOf(
        client.send(new ssm.SendCommandCommand({ DocumentName: "nope", InstanceIds: [workstation] })),
      ),
    ).to.equal("InvalidDocument");
    const other = sim.scenario.instance({ subnetId: sim.state.instance(workstation)!.subnetId });
    expect(await codeOf(send(other.instanceId))).to.equal("InvalidInstanceId");
    expect(await codeOf(send(workstation, { Extra: ["x"] }))).to.equal("InvalidParameters");
    expect(await codeOf(send(workstation, { IncidentId: ["bad id!"] }))).to.equal("InvalidParameters");
    expect(
      await codeOf(client.send(new ssm.CreateDocumentCommand({ Name: "ir-triage", Content: DOCUMENT }))),
    ).to.equal("DocumentAlreadyExists");
  });

  it("an instance is managed only once its image runs the agent and it has an instance profile", async function () {
    expect(await codeOf(send())).to.equal("InvalidInstanceId");
    sim.ssm.agentImage(imageId, [TRIAGE_PROGRAM]);
    expect(await codeOf(send())).to.equal("no error");
  });

  it("an invocation is not visible at once, then Pending, InProgress, and Success with the triage's files in the bucket", async function () {
    sim.ssm.agentImage(imageId, [TRIAGE_PROGRAM]);
    sim.ssm.plant("vol-not-this-one", [
      { severity: "high", category: "yara", title: "elsewhere", path: "/x" },
    ]);
    const { EC2Client, DetachVolumeCommand, AttachVolumeCommand, StopInstancesCommand } =
      await import("@aws-sdk/client-ec2");
    const ec2 = new EC2Client({
      endpoint: sim.endpoint,
      region: sim.region,
      maxAttempts: 1,
      credentials: client.config.credentials,
    });
    const victimId = sim.state.volume(evidenceVolume)!.attachment!.instanceId;
    await ec2.send(new StopInstancesCommand({ InstanceIds: [victimId] }));
    sim.advance(60_000);
    await ec2.send(new DetachVolumeCommand({ VolumeId: evidenceVolume }));
    sim.advance(10_000);
    await ec2.send(
      new AttachVolumeCommand({ VolumeId: evidenceVolume, InstanceId: workstation, Device: "/dev/sdf" }),
    );
    sim.advance(10_000);
    ec2.destroy();
    sim.ssm.plant(evidenceVolume, [
      { severity: "low", category: "timeline", title: "changed binary", path: "/usr/bin/ls" },
      { severity: "high", category: "persistence", title: "cron job", path: "/etc/cron.d/x" },
    ]);

    const commandId = (await send()).Command!.CommandId!;
    expect(await codeOf(look(commandId))).to.equal("InvocationDoesNotExist");
    sim.advance(SSM_TIMINGS.invocationVisibleMs);
    expect((await look(commandId)).Status).to.equal("Pending");
    sim.advance(SSM_TIMINGS.deliveryMs);
    expect((await look(commandId)).Status).to.equal("InProgress");
    // 100 GiB at 125 MiB/s is ~819 s: over the 600 s budget, so the hash continues in the background.
    sim.advance(600_000 + TRIAGE_TIMINGS.baseMs + 100 * TRIAGE_TIMINGS.scanMsPerGiB);
    const answer = await look(commandId);
    expect([answer.Status, answer.StatusDetails, answer.ResponseCode]).to.deep.equal([
      "Success",
      "Success",
      0,
    ]);
    const keys = () => [...sim.state.bucket("evidence")!.objects.keys()];
    const summary = JSON.parse(
      Buffer.from(sim.state.object("evidence", "incidents/inc-1/triage/summary.json")!.body).toString(),
    ) as {
      status: string;
      simulated: boolean;
      devices: { hash: string; sha256: string | null }[];
      findings: { title: string }[];
    };
    expect(summary.simulated).to.equal(true);
    expect(summary.status).to.equal("partial");
    expect(summary.devices[0]).to.include({ hash: "continuing", sha256: null });
    expect(summary.findings.map((f) => f.title)).to.deep.equal([
      "cron job",
      "changed binary",
      `SHA-256 of ${evidenceVolume} continues beyond the 600s budget; hash-${evidenceVolume}.sha256 follows`,
    ]);
    expect(keys()).to.not.include(`incidents/inc-1/triage/hash-${evidenceVolume}.sha256`);
    sim.advance(300_000);
    expect(keys()).to.include(`incidents/inc-1/triage/hash-${evidenceVolume}.sha256`);
  });

  it("a script naming ir-triage on an image without it fails with bash's 127", async function () {
    sim.ssm.agentImage(imageId, []);
    const commandId = (await send()).Command!.CommandId!;
    sim.advance(SSM_TIMINGS.deliveryMs + 1_000);
    const answer = await look(commandId);
    expect([answer.Status, answer.ResponseCode]).to.deep.equal(["Failed", 127]);
  });

  it("a run longer than the document's timeoutSeconds ends TimedOut (ExecutionTimedOut)", async function () {
    sim.ssm.agentImage(imageId, [TRIAGE_PROGRAM]);
    await client.send(
      new ssm.CreateDocumentCommand({
        Name: "short",
        Content: DOCUMENT.replace('"timeoutSeconds":3600', '"timeoutSeconds":30'),
      }),
    );
    const commandId = (
      await client.send(
        new ssm.SendCommandCommand({
          DocumentName: "short",
          InstanceIds: [workstation],
          Parameters: { IncidentId: ["inc-1"], EvidenceBucket: ["evidence"], Volumes: [evidenceVolume] },
        }),
      )
    ).Command!.CommandId!;
    sim.advance(SSM_TIMINGS.deliveryMs + 31_000);
    const answer = await look(commandId);
    expect([answer.Status, answer.StatusDetails]).to.deep.equal(["TimedOut", "ExecutionTimedOut"]);
  });

  it("IAM: SendCommand is authorized on the document and on the instance with its tags (ssm:resourceTag)", async function () {
    sim.ssm.agentImage(imageId, [TRIAGE_PROGRAM]);
    const documentArn = `arn:aws:ssm:${sim.region}:${sim.accountId}:document/ir-triage`;
    const keys = sim.iam.addPrincipal({
      name: "responder",
      arn: `arn:aws:iam::${sim.accountId}:role/responder`,
      policies: [
        {
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Action: ["ssm:SendCommand"], Resource: [documentArn] },
            {
              Effect: "Allow",
              Action: ["ssm:SendCommand"],
              Resource: [`arn:aws:ec2:${sim.region}:${sim.accountId}:instance/*`],
              Condition: { StringEquals: { "ssm:resourceTag/ir:responder-made": "forensic" } },
            },
          ],
        },
      ],
    });
    const responder = new ssm.SSMClient({
      endpoint: sim.endpoint,
      region: sim.region,
      maxAttempts: 1,
      credentials: keys,
    });
    const as = (instanceId: string) =>
      codeOf(
        responder.send(
          new ssm.SendCommandCommand({
            DocumentName: "ir-triage",
            InstanceIds: [instanceId],
            Parameters: { IncidentId: ["inc-1"], EvidenceBucket: ["evidence"], Volumes: [evidenceVolume] },
          }),
        ),
      );
    expect(await as(workstation)).to.equal("no error");
    const untagged = sim.scenario.instance({
      imageId,
      subnetId: sim.state.instance(workstation)!.subnetId,
      instanceProfile: "forensic",
    });
    expect(await as(untagged.instanceId)).to.equal("AccessDeniedException");
    expect(
      await codeOf(
        responder.send(new ssm.GetCommandInvocationCommand({ CommandId: "x", InstanceId: workstation })),
      ),
    ).to.equal("AccessDeniedException");
    responder.destroy();
  });
});
