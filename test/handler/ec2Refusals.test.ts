// The whole response against EC2's documented refusals (modelled by the simulator, see simulator/README.md
// "EC2 refusals"): each row is an instance or a setting where AWS says no somewhere, and asserts that the response
// records the refusal and completes everything else. Each row failed before its fix (issue 11, section 3).
import { expect } from "chai";

import type { IncidentRecord } from "../../handler/incidentRecord";
import { callsNaming, completedRecord, expectIsolated, expectNothingDestroyed } from "./assertions";
import { startHarness, stopDynamo, type Harness } from "../../testkit/harness";

const KEY_ARN = "arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

describe("handler against EC2's refusals (simulator + dynalite)", function () {
  this.timeout(120_000);
  let harness: Harness;

  before(async () => {
    // A dump of a 384 GiB bare metal instance takes over an hour at the default rate: 0.1 s per GiB here.
    harness = await startHarness({ simulator: { durations: { kdumpPerGiBMs: 100 } } });
  });
  after(async () => {
    expectNothingDestroyed(harness);
    await harness.stop();
    await stopDynamo();
  });
  afterEach(() => {
    harness.sim.faults.clear();
    harness.sim.scenario.kmsAccess(() => true);
  });

  const respond = async (instanceId: string, responder: Harness = harness): Promise<IncidentRecord> => {
    const outcome = await responder.invoke(responder.sim.scenario.findingFor(instanceId, { severity: 8 }));
    expect(outcome.outcome, JSON.stringify(outcome)).to.equal("completed");
    return completedRecord(responder, instanceId);
  };
  const notificationsOf = (record: IncidentRecord): string =>
    harness.sim.state
      .messages(harness.world.topicArn)
      .filter((message) => message.message.includes(record.incidentId))
      .map((message) => message.message)
      .join("\n");
  /** An app instance launched from a template (EC2 tags it with the template's id and version). */
  const launchedFrom = (launchTemplateId: string) =>
    harness.sim.scenario.instance({
      subnetId: harness.world.subnetA,
      imageId: harness.world.plainImage,
      securityGroupIds: [harness.world.appGroup],
      tags: { "aws:ec2launchtemplate:id": launchTemplateId, "aws:ec2launchtemplate:version": "1" },
    });
  const replacementLaunches = (record: IncidentRecord) =>
    callsNaming(harness, record.incidentId, "RunInstances").filter((call) =>
      JSON.stringify(call.params).includes('"replacement"'),
    );

  it("Spot: termination protection is refused; recorded as a problem, the rest of the response goes on", async () => {
    const { sim, world } = harness;
    const created = sim.scenario.instance({
      subnetId: world.subnetA,
      securityGroupIds: [world.appGroup],
      market: "spot-persistent",
      dataVolumes: [{ sizeGiB: 8 }],
    });

    const record = await respond(created.instanceId);

    expectIsolated(harness, created.instanceId, world.isolationGroup);
    expect(record.steps.cutAccess?.status).to.equal("done");
    expect(record.facts.problems?.join("\n")).to.match(/termination protection.*Spot/);
    expect(notificationsOf(record)).to.match(/Problems: .*termination protection/);
    expect(sim.state.instance(created.instanceId)!.state, "a persistent Spot instance is stopped").to.equal(
      "stopped",
    );
    expect(record.facts.snapshots).to.have.length(2);
    expect(record.facts.attachments).to.have.length(2);
  });

  describe("replacement", () => {
    it("the original's profile role is not in REPLACEMENT_PASSABLE_ROLE_ARNS: launched without the profile, the role named in the record", async () => {
      const { sim, world } = harness;
      const created = sim.scenario.instance({
        subnetId: world.subnetA,
        securityGroupIds: [world.appGroup],
        instanceProfile: world.appProfile.arn,
      });

      const record = await respond(created.instanceId);

      const replacementId = record.facts.replacement?.instanceId;
      expect(replacementId, JSON.stringify(record.facts.replacement)).to.be.a("string");
      const launch = replacementLaunches(record);
      expect(launch).to.have.length.greaterThan(0);
      expect(launch.every((call) => call.params.IamInstanceProfile === undefined)).to.equal(true);
      expect(
        sim.state.iamInstanceProfileAssociations().filter((a) => a.instanceId === replacementId),
      ).to.deep.equal([]);
      const roleArn = sim.state.role(world.appProfile.roleName!)!.arn;
      expect(record.facts.replacement?.reason).to.include(roleArn);
      expect(record.facts.problems?.join("\n")).to.include(roleArn);
      expect(
        sim.state.networkInterface(sim.state.instance(replacementId!)!.networkInterfaceIds[0]!)!.groupIds,
      ).to.deep.equal([world.appGroup]);
    });

    it("a role in REPLACEMENT_PASSABLE_ROLE_ARNS is passed: the replacement keeps the profile", async () => {
      const { sim, world } = harness;
      const roleArn = sim.state.role(world.appProfile.roleName!)!.arn;
      // The stack's replacementRoleArns sets both the handler's setting and the role's iam:PassRole.
      const responder = await harness.withSettings(
        { REPLACEMENT_PASSABLE_ROLE_ARNS: JSON.stringify([roleArn]) },
        { replacementRoleArns: JSON.stringify([roleArn]) },
      );
      const created = sim.scenario.instance({
        subnetId: world.subnetA,
        securityGroupIds: [world.appGroup],
        instanceProfile: world.appProfile.arn,
      });

      const record = await respond(created.instanceId, responder);

      const replacementId = record.facts.replacement!.instanceId!;
      expect(
        sim.state.iamInstanceProfileAssociations().find((a) => a.instanceId === replacementId)
          ?.instanceProfileArn,
      ).to.equal(world.appProfile.arn);
      // The policy never lets the responder rewrite a role it may pass: that role's sessions stay valid, said.
      expect(record.facts.problems ?? []).to.deep.equal([
        "cutAccess: sessions of role web-app-role not revoked: it is a replacement role (replacementRoleArns), which the responder may pass but never rewrite",
      ]);
    });

    it("a refused launch is recorded as a failed replacement; the response completes", async () => {
      const { sim, world } = harness;
      const created = sim.scenario.instance({ subnetId: world.subnetA, securityGroupIds: [world.appGroup] });
      // The forensic workstation's launch comes first; every RunInstances after it is refused.
      sim.faults.add({
        action: "RunInstances",
        skip: 1,
        fault: {
          type: "error",
          code: "Unsupported",
          message: "The requested configuration is currently not supported.",
        },
      });

      const record = await respond(created.instanceId);

      expect(record.steps.replacement?.status).to.equal("failed");
      expect(record.steps.replacement?.outcome).to.match(/Unsupported/);
      expect(record.facts.replacement?.instanceId).to.equal(undefined);
      expect(notificationsOf(record)).to.match(/Problems: .*replacement/);
      expect(record.facts.attachments).to.have.length(1);
    });

    it("a launch template that defines network interfaces: the original groups and subnet go into NetworkInterfaces", async () => {
      const { sim, world } = harness;
      const other = sim.scenario.securityGroup({ vpcId: world.vpcId, groupName: "template-default" });
      const template = sim.scenario.launchTemplate({
        name: "eni-template",
        imageId: world.plainImage,
        instanceType: "m6i.large",
        networkInterfaces: [
          { subnetId: world.subnetA2, securityGroupIds: [other], associatePublicIpAddress: false },
        ],
      });
      const created = launchedFrom(template.launchTemplateId);

      const record = await respond(created.instanceId);

      expect(record.steps.replacement?.status, record.steps.replacement?.outcome).to.equal("done");
      const [launch] = replacementLaunches(record);
      expect(launch?.params.SubnetId).to.equal(undefined);
      expect(launch?.params.SecurityGroupIds).to.equal(undefined);
      expect(launch?.params.NetworkInterfaces).to.deep.equal([
        {
          DeviceIndex: 0,
          SubnetId: world.subnetA,
          Groups: [world.appGroup],
          AssociatePublicIpAddress: false,
        },
      ]);
      const replacement = sim.state.instance(record.facts.replacement!.instanceId!)!;
      expect(replacement.subnetId).to.equal(world.subnetA);
      expect(sim.state.networkInterface(replacement.networkInterfaceIds[0]!)!.groupIds).to.deep.equal([
        world.appGroup,
      ]);
      expect(replacement.tags.get("aws:ec2launchtemplate:id")).to.equal(template.launchTemplateId);
    });

    it("a launch template whose AMI is a Systems Manager parameter: resolved, the replacement comes from the template", async () => {
      const { sim, world } = harness;
      sim.scenario.ssmParameter("/golden/web", world.plainImage);
      const template = sim.scenario.launchTemplate({
        name: "ssm-template",
        imageId: "resolve:ssm:/golden/web",
        instanceType: "m6i.large",
        securityGroupIds: [world.appGroup],
      });
      const created = launchedFrom(template.launchTemplateId);

      const record = await respond(created.instanceId);

      const replacement = sim.state.instance(record.facts.replacement!.instanceId!)!;
      expect(replacement.imageId).to.equal(world.plainImage);
      expect(replacement.tags.get("aws:ec2launchtemplate:id")).to.equal(template.launchTemplateId);
      expect(record.facts.replacement?.reason).to.match(/launch template/);
    });

    it("a launch template whose Systems Manager parameter does not resolve: the replacement comes from the instance's configuration, and the record says why", async () => {
      const { sim, world } = harness;
      const template = sim.scenario.launchTemplate({
        name: "ssm-missing",
        imageId: "resolve:ssm:/golden/gone",
        instanceType: "m6i.large",
        securityGroupIds: [world.appGroup],
      });
      const created = launchedFrom(template.launchTemplateId);

      const record = await respond(created.instanceId);

      expect(record.steps.replacement?.status, record.steps.replacement?.outcome).to.equal("done");
      const replacement = sim.state.instance(record.facts.replacement!.instanceId!)!;
      expect(replacement.imageId).to.equal(world.plainImage);
      expect(replacement.tags.get("aws:ec2launchtemplate:id")).to.equal(undefined);
      expect(record.facts.replacement?.reason).to.match(/SsmInvalidParameter/);
      expect(sim.state.networkInterface(replacement.networkInterfaceIds[0]!)!.groupIds).to.deep.equal([
        world.appGroup,
      ]);
    });

    it("an AMI encrypted with a customer-managed key the responder may not use: the replacement terminates on launch and the record says so", async () => {
      const { sim, world } = harness;
      const encrypted = sim.scenario.image({ name: "web-app cmk", kmsKeyId: KEY_ARN });
      const created = sim.scenario.instance({
        subnetId: world.subnetA,
        imageId: encrypted,
        securityGroupIds: [world.appGroup],
      });
      sim.scenario.kmsAccess(() => false);

      const record = await respond(created.instanceId);

      expect(record.steps.replacement?.status).to.equal("failed");
      expect(record.steps.replacement?.outcome).to.match(/Client\.InternalError/);
      expect(notificationsOf(record)).to.match(/Problems: .*replacement/);
    });
  });

  describe("evidence volumes on the workstation", () => {
    it("a volume with AWS Marketplace codes cannot go to the running workstation: recorded, the other volumes attached", async () => {
      const { sim, world } = harness;
      const marketplace = sim.scenario.image({ name: "vendor appliance", productCodes: ["prod-abc123"] });
      const created = sim.scenario.instance({
        subnetId: world.subnetA,
        imageId: marketplace,
        securityGroupIds: [world.appGroup],
        dataVolumes: [{ sizeGiB: 8 }],
      });
      const [rootVolume, dataVolume] = created.volumeIds;

      const record = await respond(created.instanceId);

      const forensicId = record.facts.forensic!.instanceId!;
      expect(sim.state.volume(dataVolume!)!.attachment?.instanceId).to.equal(forensicId);
      expect(sim.state.volume(rootVolume!)!.attachment).to.equal(undefined);
      expect(record.facts.attachments?.map((attachment) => attachment.volumeId)).to.deep.equal([dataVolume]);
      expect(record.steps.attachEvidenceVolumes?.status).to.equal("failed");
      expect(record.steps.attachEvidenceVolumes?.outcome).to.include(rootVolume);
      expect(record.steps.attachEvidenceVolumes?.outcome).to.match(/Marketplace/);
      expect(record.facts.snapshots).to.have.length(2);
    });

    it("AttachmentLimitExceeded: the volumes past the workstation's limit are recorded, the others attached", async () => {
      const { sim, world } = harness;
      // u-6tb1.metal takes at most 13 EBS volumes: its root and 12 of the 15 evidence volumes.
      const responder = await harness.withSettings({ FORENSIC_INSTANCE_TYPE: "u-6tb1.metal" });
      const created = sim.scenario.instance({
        subnetId: world.subnetA,
        securityGroupIds: [world.appGroup],
        dataVolumes: Array.from({ length: 14 }, (_, index) => ({
          sizeGiB: 1,
          deviceName: `/dev/xvdb${String.fromCharCode(97 + index)}`,
        })),
      });

      const record = await respond(created.instanceId, responder);

      expect(record.facts.attachments).to.have.length(12);
      expect(record.steps.attachEvidenceVolumes?.status).to.equal("failed");
      const refused = (record.steps.attachEvidenceVolumes?.detail?.notAttached ?? []) as {
        volumeId: string;
        reason: string;
      }[];
      expect(refused).to.have.length(3);
      for (const volume of refused) expect(volume.reason).to.match(/AttachmentLimitExceeded/);
      expect(
        new Set([...refused.map((v) => v.volumeId), ...record.facts.attachments!.map((a) => a.volumeId)]),
      ).to.deep.equal(new Set(created.volumeIds));
    });

    it("copies of snapshots encrypted with a key the responder may not use end in error: recorded at once, not waited for", async () => {
      const { sim, world } = harness;
      const responder = await harness.withSettings({ ATTACH_SNAPSHOT_COPIES: "true" });
      const created = sim.scenario.instance({
        subnetId: world.subnetA,
        securityGroupIds: [world.appGroup],
        rootVolume: { kmsKeyId: KEY_ARN },
        dataVolumes: [{ sizeGiB: 1 }],
      });
      sim.scenario.kmsAccess(() => false);

      const record = await respond(created.instanceId, responder);

      expect(record.facts.attachments).to.have.length(1);
      const refused = (record.steps.attachEvidenceVolumes?.detail?.notAttached ?? []) as {
        reason: string;
      }[];
      expect(refused).to.have.length(1);
      expect(refused[0]!.reason).to.match(/error/);
      expect(record.steps.attachEvidenceVolumes?.outcome).to.match(/not attached/);
    });
  });

  describe("the diagnostic interrupt", () => {
    it("is sent at most once: after a 500 whose outcome is unknown it is not sent again; the wait for the power-off decides", async () => {
      const { sim, world } = harness;
      const created = sim.scenario.instance({
        subnetId: world.subnetA,
        securityGroupIds: [world.appGroup],
        imageId: world.kdumpImage,
      });
      sim.faults.add({ action: "SendDiagnosticInterrupt", fault: { type: "internalError" } });

      const record = await respond(created.instanceId);

      const sent = sim.calls.filter(
        (call) => call.action === "SendDiagnosticInterrupt" && call.params.InstanceId === created.instanceId,
      );
      expect(sent, "NMI requests that reached EC2").to.have.length(1);
      expect(record.facts.memory?.method).to.equal("nmi");
      expect(record.facts.memory?.reason).to.match(/unknown/);
      expect(record.facts.memory?.poweredOff).to.equal(false);
      expect(sim.state.instance(created.instanceId)!.state, "stopped by the stop step").to.equal("stopped");
    });

    it("Graviton and bare metal (no hypervisor value) get it where EC2 supports it; A1 does not", async () => {
      const { sim, world } = harness;
      for (const instanceType of ["m7g.large", "m5.metal"]) {
        const created = sim.scenario.instance({
          subnetId: world.subnetA,
          securityGroupIds: [world.appGroup],
          instanceType,
          kdumpReady: true,
        });

        const record = await respond(created.instanceId);

        expect(record.facts.memory?.method, instanceType).to.equal("nmi");
        expect(
          callsNaming(harness, created.instanceId, "SendDiagnosticInterrupt"),
          instanceType,
        ).to.have.length(1);
        expect(sim.state.instance(created.instanceId)!.memoryDumps, instanceType).to.have.length(1);
        expect(record.facts.memory?.poweredOff, instanceType).to.equal(true);
      }
      const a1 = sim.scenario.instance({
        subnetId: world.subnetA,
        securityGroupIds: [world.appGroup],
        instanceType: "a1.large",
        kdumpReady: true,
      });

      const record = await respond(a1.instanceId);

      expect(callsNaming(harness, a1.instanceId, "SendDiagnosticInterrupt")).to.deep.equal([]);
      expect(record.facts.memory?.reason).to.match(/A1/);
    });
  });

  it("CreateSnapshots: volumes tagged Name get snapshots (the request does not name a key the volumes bring)", async () => {
    const { sim, world } = harness;
    const created = sim.scenario.instance({
      subnetId: world.subnetA,
      securityGroupIds: [world.appGroup],
      rootVolume: { tags: { Name: "web-9 root" } },
      dataVolumes: [{ sizeGiB: 8, tags: { Name: "web-9 data", team: "payments" } }],
    });

    const record = await respond(created.instanceId);

    const snapshots = sim.state.snapshots().filter((s) => s.tags.get("ir:incident") === record.incidentId);
    expect(snapshots, "two volumes, two sets").to.have.length(4);
    for (const set of ["as-found", "after-stop"]) {
      const data = snapshots.find(
        (s) => s.volumeId === created.volumeIds[1] && s.tags.get("ir:evidence-set") === set,
      );
      expect(Object.fromEntries(data!.tags)).to.deep.include({
        "ir:incident": record.incidentId,
        "ir:evidence-set": set,
        Name: "web-9 data",
        team: "payments",
      });
    }
  });
});
