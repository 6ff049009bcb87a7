// The triage step (handler/steps/triage.ts) against the simulator's Run Command and S3, signed as the responder's
// role as the Pulumi program synthesizes it (IAM evaluated per resource and condition key), on a manual clock.
import { Logger } from "@aws-lambda-powertools/logger";
import {
  AttachVolumeCommand,
  DetachVolumeCommand,
  EC2Client,
  StopInstancesCommand,
} from "@aws-sdk/client-ec2";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateDocumentCommand, SSMClient } from "@aws-sdk/client-ssm";
import { expect } from "chai";

import { createAwsClients } from "../../handler/awsClients";
import type { IncidentRecord } from "../../handler/incidentRecord";
import type { IncidentStore } from "../../handler/incidentStore";
import type { ResponseContext } from "../../handler/responseContext";
import { parseSettings } from "../../handler/settings";
import { triage } from "../../handler/steps/triage";
import { buildTriageDocumentContent } from "../../infra/triageDocument";
import { startSimulator, type Simulator } from "../../simulator";
import { deniedRequests } from "../../simulator/iam/authorizer";
import { TRIAGE_PROGRAM } from "../../simulator/services/ssmPrograms";
import { testStackRun } from "../../testkit/responderIdentity";
import {
  buildWorld,
  responderCredentials,
  responderSettings,
  type World,
} from "../../testkit/responderWorld";

const INCIDENT = "inc-20261207T020000000Z-i-0aaaaaaaaaaaaaaaa";
const HOUR = 3_600_000;

describe("handler: triage on the forensic workstation (simulator, IAM evaluated)", function () {
  this.timeout(30_000);
  let sim: Simulator;
  let world: World;
  let workstation: string;
  let evidenceVolume: string;
  let documentName: string;
  let admin: { ec2: EC2Client; s3: S3Client; ssm: SSMClient };
  const savedEnvironment = { ...process.env };

  beforeEach(async function () {
    sim = await startSimulator({ timeScale: 0 });
    world = buildWorld(sim);
    const env: Record<string, string | undefined> = sim.env();
    const credentials = {
      accessKeyId: env.AWS_ACCESS_KEY_ID ?? "",
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? "",
    };
    const common = { endpoint: sim.endpoint, region: sim.region, maxAttempts: 1, credentials };
    admin = {
      ec2: new EC2Client(common),
      s3: new S3Client({ ...common, forcePathStyle: true }),
      ssm: new SSMClient(common),
    };
    // The stack's document, under the name the program gives it (the responder's policy names it).
    const run = await testStackRun();
    documentName = String(run.one("aws:ssm/document:Document", "triage").state.name);
    await admin.ssm.send(
      new CreateDocumentCommand({ Name: documentName, Content: buildTriageDocumentContent() }),
    );
    sim.ssm.agentImage(world.plainImage, [TRIAGE_PROGRAM]);
    workstation = sim.scenario.instance({
      imageId: world.plainImage,
      subnetId: world.subnetA,
      instanceProfile: "ir-forensic",
      tags: { "ir:responder-made": "forensic", "ir:incident": INCIDENT },
    }).instanceId;
    const victim = sim.scenario.instance({ subnetId: world.subnetA, dataVolumes: [{ sizeGiB: 20 }] });
    evidenceVolume = victim.volumeIds[1]!;
    await admin.ec2.send(new StopInstancesCommand({ InstanceIds: [victim.instanceId] }));
    sim.advance(60_000);
    await admin.ec2.send(new DetachVolumeCommand({ VolumeId: evidenceVolume }));
    sim.advance(10_000);
    await admin.ec2.send(
      new AttachVolumeCommand({ VolumeId: evidenceVolume, InstanceId: workstation, Device: "/dev/sdf" }),
    );
    sim.advance(10_000);
    sim.ssm.plant(evidenceVolume, [
      { severity: "high", category: "persistence", title: "cron job runs /tmp/.x", path: "/etc/cron.d/x" },
    ]);
    Object.assign(process.env, sim.env(), await responderCredentials(sim, world, "incidents-triage"));
  });
  afterEach(async function () {
    for (const key of Object.keys(process.env)) if (!(key in savedEnvironment)) delete process.env[key];
    Object.assign(process.env, savedEnvironment);
    Object.values(admin).forEach((client) => client.destroy());
    await sim.stop();
  });

  function context(settings: Record<string, string> = {}, facts: Partial<IncidentRecord["facts"]> = {}) {
    const parsed = parseSettings({
      ...responderSettings(sim, world, "incidents-triage", 1),
      AWS_REGION: sim.region,
      STATE_MACHINE_ARN: `arn:aws:states:${sim.region}:${sim.accountId}:stateMachine:ir`,
      TRIAGE_DOCUMENT: documentName,
      POLL_INTERVAL_SECONDS: "0.001",
      ...settings,
    });
    const record = {
      incidentId: INCIDENT,
      instanceId: "i-0aaaaaaaaaaaaaaaa",
      steps: {},
      facts: {
        forensic: {
          instanceId: workstation,
          subnetId: world.subnetA,
          availabilityZone: `${sim.region}a`,
          clientToken: "t",
        },
        attachments: [{ volumeId: evidenceVolume, source: "original", device: "/dev/sdf" }],
        ...facts,
      },
    } as unknown as IncidentRecord;
    return {
      settings: parsed,
      aws: createAwsClients(sim.region),
      logger: new Logger({ logLevel: "SILENT" }),
      record,
      step: "triage",
      resumed: false,
      checkpoint: () => Promise.resolve(),
      store: {} as IncidentStore,
    } satisfies ResponseContext;
  }

  /** Passes until the step stops waiting, the simulated clock moved between them as the Wait state would. */
  async function runStep(ctx: ResponseContext, simMsBetweenPasses = 30_000) {
    for (let pass = 0; pass < 100; pass++) {
      const result = await triage(ctx);
      if (result.status !== "waiting") return result;
      sim.advance(simMsBetweenPasses);
    }
    throw new Error("the triage step never stopped waiting");
  }

  function expectNoDenials() {
    expect(deniedRequests(sim.iam.stats)).to.deep.equal([]);
  }

  it("sends the document to the workstation, follows it, and records the summary's top findings", async function () {
    const ctx = context();
    const result = await runStep(ctx);
    expect(result.status, result.outcome).to.equal("done");
    const facts = ctx.record.facts.triage!;
    expect(facts).to.include({ status: "complete", simulated: true, findingCount: 1, memoryDump: false });
    expect(facts.findings).to.deep.equal([
      { severity: "high", category: "persistence", title: "cron job runs /tmp/.x", path: "/etc/cron.d/x" },
    ]);
    expect(facts.summarySha256).to.match(/^[0-9a-f]{64}$/);
    const [invocation] = sim.ssm.invocations();
    expect(invocation).to.deep.include({ instanceId: workstation, documentName });
    expect(invocation!.parameters.Volumes).to.deep.equal([evidenceVolume]);
    expect(ctx.record.facts.problems ?? []).to.deep.equal([]);
    expectNoDenials();
  });

  it("a failed command is the step's outcome and a problem, never a thrown error", async function () {
    // ir-triage exits 4 when its upload fails: here the bucket it is told to upload to does not exist.
    const ctx = context({ EVIDENCE_BUCKET: "no-such-evidence-bucket" });
    const result = await runStep(ctx);
    expect(result.status).to.equal("failed");
    expect(result.outcome).to.match(/^triage Failed \(Failed, exit 4\): ir-triage: upload to .* failed$/);
    expect(ctx.record.facts.problems).to.deep.equal([`triage: ${result.outcome}`]);
    expect(ctx.record.facts.triage?.status).to.equal("failed");
    expectNoDenials();
  });

  it("a document other than the stack's is refused by IAM, and recorded so", async function () {
    await admin.ssm.send(
      new CreateDocumentCommand({ Name: "not-triage", Content: buildTriageDocumentContent() }),
    );
    const refused = await runStep(context({ TRIAGE_DOCUMENT: "not-triage" }));
    expect(refused.status).to.equal("failed");
    expect(refused.outcome).to.match(/Run Command refused the triage: AccessDenied/);
    expect(sim.ssm.invocations()).to.deep.equal([]);
  });

  it("a workstation image without ir-triage is skipped (bash's 127), not failed", async function () {
    sim.ssm.agentImage(world.plainImage, []);
    const ctx = context();
    const result = await runStep(ctx);
    expect(result.status).to.equal("skipped");
    expect(result.outcome).to.match(/no ir-triage/);
    expectNoDenials();
  });

  it("past TRIAGE_TIMEOUT_SECONDS the step records 'still running' and the response goes on", async function () {
    const ctx = context({ TRIAGE_TIMEOUT_SECONDS: "0.001" });
    const first = await triage(ctx);
    expect(first.status).to.equal("waiting");
    await new Promise((resolve) => setTimeout(resolve, 5));
    const result = await triage(ctx);
    expect(result.status).to.equal("done");
    expect(ctx.record.facts.triage?.status).to.equal("still-running");
    expect(result.outcome).to.match(/still running after/);
    expectNoDenials();
  });

  it("no workstation, no attachments, triage off, dry run: skipped without a call", async function () {
    const before = sim.calls.length;
    expect((await triage(context({}, { forensic: undefined }))).outcome).to.equal("no forensic workstation");
    expect((await triage(context({}, { attachments: [] }))).status).to.equal("skipped");
    expect((await triage(context({ TRIAGE_DOCUMENT: "" }))).outcome).to.match(/triage is off/);
    expect((await triage(context({ DRY_RUN: "true" }))).status).to.equal("skipped");
    expect(sim.calls.length).to.equal(before);
  });

  it("a workstation not (yet) a managed node: waited for 5 minutes after its launch, then a problem", async function () {
    /** A workstation on an image without the SSM Agent, launched at `launchTime`, holding one volume. */
    const unmanaged = (launchTime: number) => {
      const made = sim.scenario.instance({
        imageId: world.kdumpImage,
        subnetId: world.subnetA,
        instanceProfile: "ir-forensic",
        tags: { "ir:responder-made": "forensic", "ir:incident": INCIDENT },
        dataVolumes: [{ sizeGiB: 1 }],
        launchTime,
      });
      return context(
        {},
        {
          forensic: {
            instanceId: made.instanceId,
            subnetId: world.subnetA,
            availabilityZone: `${sim.region}a`,
            clientToken: "t",
          },
          attachments: [{ volumeId: made.volumeIds[1]!, source: "original", device: "/dev/sdf" }],
        },
      );
    };
    const booting = unmanaged(sim.now());
    const first = await triage(booting);
    expect([first.status, first.outcome]).to.deep.equal([
      "waiting",
      `${booting.record.facts.forensic!.instanceId} is not a managed node yet`,
    ]);
    const old = unmanaged(sim.now() - HOUR);
    const result = await triage(old);
    expect(result.status).to.equal("failed");
    expect(result.outcome).to.match(/is not a Systems Manager managed node: InvalidInstanceId/);
    expect(old.record.facts.problems).to.deep.equal([`triage: ${result.outcome}`]);
    expectNoDenials();
  });

  it("a workstation without this incident's tag is not sent anything", async function () {
    const other = sim.scenario.instance({
      imageId: world.plainImage,
      subnetId: world.subnetA,
      instanceProfile: "ir-forensic",
      tags: { "ir:responder-made": "forensic", "ir:incident": "inc-another" },
    }).instanceId;
    const ctx = context(
      {},
      {
        forensic: {
          instanceId: other,
          subnetId: world.subnetA,
          availabilityZone: `${sim.region}a`,
          clientToken: "t",
        },
      },
    );
    const result = await runStep(ctx);
    expect(result.status).to.equal("failed");
    expect(result.outcome).to.match(/not tagged as this incident's workstation/);
    expect(ctx.record.facts.problems?.[0]).to.match(/^triage: /);
    expect(sim.ssm.invocations()).to.deep.equal([]);
  });

  describe("the summary read back", function () {
    /** Runs the triage, then replaces summary.json before the step reads it. */
    async function withSummary(body: string | Buffer) {
      const ctx = context();
      expect((await triage(ctx)).status).to.equal("waiting");
      sim.advance(HOUR);
      await admin.s3.send(
        new PutObjectCommand({
          Bucket: world.bucket,
          Key: `incidents/${INCIDENT}/triage/summary.json`,
          Body: body,
          ChecksumAlgorithm: "SHA256",
        }),
      );
      const result = await runStep(ctx);
      return { result, ctx };
    }

    it("missing: recorded as a problem", async function () {
      const ctx = context();
      expect((await triage(ctx)).status).to.equal("waiting");
      sim.advance(HOUR);
      sim.faults.add({
        service: "s3",
        action: "GetObject",
        fault: { type: "error", code: "NoSuchKey", httpStatus: 404 },
      });
      const result = await runStep(ctx);
      expect(result.status).to.equal("failed");
      expect(result.outcome).to.match(/left no incidents\/.*\/triage\/summary.json/);
      expect(ctx.record.facts.problems).to.have.length(1);
    });
    it("not JSON, or not of the contract: failed, said why", async function () {
      expect((await withSummary("{ not json")).result.outcome).to.equal("summary.json is not JSON");
      expect((await withSummary(JSON.stringify({ incidentId: INCIDENT }))).result.outcome).to.match(
        /^summary.json: /,
      );
    });
    it("another incident's summary is refused", async function () {
      const other = JSON.stringify({
        incidentId: "inc-other",
        status: "complete",
        devices: [],
        findings: [],
        files: [],
      });
      expect((await withSummary(other)).result.outcome).to.match(/is for inc-other, not this incident/);
    });
    it("oversized: not read", async function () {
      const { result } = await withSummary(Buffer.alloc(2 * 1024 * 1024, 32));
      expect(result.status).to.equal("failed");
      expect(result.outcome).to.match(/over 1048576: not read/);
    });
    it("keeps the ten most important findings, high first, their text made safe", async function () {
      const findings = [
        ...Array.from({ length: 12 }, (_, index) => ({
          severity: "low",
          category: "timeline",
          title: `low ${index}`,
          path: "/a",
        })),
        { severity: "high", category: "yara", title: "miner\u001b[31m in /tmp\nrm -rf", path: "/tmp/x" },
      ];
      const body = JSON.stringify({
        incidentId: INCIDENT,
        status: "partial",
        devices: [],
        findings,
        files: [],
      });
      const { result, ctx } = await withSummary(body);
      expect(result.status, result.outcome).to.equal("done");
      const kept = ctx.record.facts.triage!.findings!;
      expect(kept).to.have.length(10);
      expect(kept[0]!.title).to.equal("miner [31m in /tmp rm -rf");
      expect(ctx.record.facts.triage!.findingCount).to.equal(13);
    });
  });
});
