// ir release against the simulator, as an operator holding only the operator policy: a response first (a web tier
// member and a standalone instance), then the release, and the instance compared attribute by attribute with the
// instance as found. Refusals, --dry-run, --standalone, --archive-finding, and a release interrupted half-way.
import { AutoScaling } from "@aws-sdk/client-auto-scaling";
import { DynamoDB } from "@aws-sdk/client-dynamodb";
import { EC2, waitUntilVolumeAvailable } from "@aws-sdk/client-ec2";
import { ElasticLoadBalancingV2 } from "@aws-sdk/client-elastic-load-balancing-v2";
import { DynamoDBDocument } from "@aws-sdk/lib-dynamodb";
import { expect } from "chai";

import { compareAttributes, seeInstance, type InstanceAsSeen } from "../../drill/instanceAsSeen";
import type { IncidentRecord } from "../../handler/incidentRecord";
import { startHarness, stopDynamo, type Harness } from "../../testkit/harness";
import { operatorFor, type Operator } from "../../testkit/operator";

const WAIT = ["--wait-delay", "0.02"];

describe("ir release", function () {
  this.timeout(180_000);
  let harness: Harness;
  let operator: Operator;
  let clients: { ec2: EC2; elbv2: ElasticLoadBalancingV2; autoScaling: AutoScaling };

  before(async () => {
    harness = await startHarness();
    operator = await operatorFor(harness);
    const settings = {
      endpoint: harness.sim.endpoint,
      region: harness.sim.region,
      credentials: {
        accessKeyId: harness.sim.env().AWS_ACCESS_KEY_ID ?? "",
        secretAccessKey: harness.sim.env().AWS_SECRET_ACCESS_KEY ?? "",
      },
    };
    clients = {
      ec2: new EC2(settings),
      elbv2: new ElasticLoadBalancingV2(settings),
      autoScaling: new AutoScaling(settings),
    };
  });
  after(async () => {
    await harness.stop();
    await stopDynamo();
  });

  let tier = 0;
  /** A web tier: an Auto Scaling group behind a target group; its member has a profile, kdump and two ENIs. */
  function webTierMember(): { instanceId: string; targetGroupArn: string; group: string } {
    const { sim, world } = harness;
    tier += 1;
    const targetGroupArn = sim.scenario.targetGroup({ name: `web-${tier}`, vpcId: world.vpcId, port: 8443 });
    const template = sim.scenario.launchTemplate({
      name: `web-${tier}`,
      imageId: world.kdumpImage,
      instanceType: "m6i.large",
      securityGroupIds: [world.appGroup],
      instanceProfileArn: world.appProfile.arn,
    });
    const group = sim.scenario.autoScalingGroup({
      name: `web-${tier}`,
      launchTemplate: template.name,
      subnetIds: [world.subnetA],
      minSize: 1,
      maxSize: 4,
      targetGroupArns: [targetGroupArn],
    });
    const backend = sim.scenario.securityGroup({ vpcId: world.vpcId, groupName: `backend-${tier}` });
    const instanceId = sim.scenario.instance({
      subnetId: world.subnetA,
      securityGroupIds: [world.appGroup],
      extraNetworkInterfaces: [{ subnetId: world.subnetA2, securityGroupIds: [backend, world.appGroup] }],
      imageId: world.kdumpImage,
      kdumpReady: true,
      instanceProfile: world.appProfile.arn,
      autoScalingGroup: group,
      targetGroupArns: [targetGroupArn],
      dataVolumes: [{ sizeGiB: 20, deleteOnTermination: true }],
      shutdownBehavior: "terminate",
      tags: { Name: `web-${tier}` },
    }).instanceId;
    return { instanceId, targetGroupArn, group };
  }

  /** An instance on its own: no group, no target group, no profile. */
  function standaloneInstance(): string {
    const { sim, world } = harness;
    return sim.scenario.instance({
      subnetId: world.subnetA,
      securityGroupIds: [world.appGroup],
      imageId: world.plainImage,
      dataVolumes: [{ sizeGiB: 8 }],
      tags: { Name: "batch-1" },
    }).instanceId;
  }

  /** The incident table as the account's administrator reaches it (through the simulator's front). */
  function administratorDocuments(): DynamoDBDocument {
    const env = harness.sim.env();
    return DynamoDBDocument.from(
      new DynamoDB({
        endpoint: harness.sim.endpoint,
        region: harness.sim.region,
        credentials: {
          accessKeyId: env.AWS_ACCESS_KEY_ID ?? "",
          secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? "",
        },
      }),
    );
  }

  async function respond(instanceId: string): Promise<IncidentRecord> {
    const outcome = await harness.invoke(harness.sim.scenario.findingFor(instanceId, { severity: 8 }));
    expect(outcome.outcome, JSON.stringify(outcome)).to.equal("completed");
    return (await harness.record(instanceId))!;
  }

  function expectSameAsFound(found: InstanceAsSeen, after: InstanceAsSeen): void {
    const differing = compareAttributes(found, after).filter((row) => !row.same);
    expect(differing, "attributes that differ from the instance as found").to.deep.equal([]);
  }

  const release = (incidentId: string, ...flags: string[]) =>
    operator.ir("release", incidentId, "--reason", "false positive: a scheduled scan", ...WAIT, ...flags);

  describe("a web tier member (Auto Scaling group, target group, profile, kdump, two ENIs)", () => {
    let member: ReturnType<typeof webTierMember>;
    let found: InstanceAsSeen;
    let record: IncidentRecord;
    let desiredBefore: number;
    let result: { code: number; stdout: string; stderr: string };

    before(async () => {
      member = webTierMember();
      found = await seeInstance(clients, member.instanceId, [member.targetGroupArn]);
      desiredBefore = harness.sim.state.autoScalingGroup(member.group)!.desiredCapacity;
      record = await respond(member.instanceId);
      result = await release(record.incidentId);
    });

    it("puts every changed attribute back exactly as found", async () => {
      expect(result.code, result.stderr).to.equal(0);
      // As found: running, serving on 8443, in its group; the response had changed every one of these.
      expect(found).to.deep.include({ state: "running", autoScalingGroup: member.group });
      expect(found.targetGroups).to.deep.equal({ [member.targetGroupArn]: 8443 });
      expect(Object.keys(found.groupsByInterface)).to.have.length(2);
      expectSameAsFound(found, await seeInstance(clients, member.instanceId, [member.targetGroupArn]));
      // Back in the group on top of its replacement.
      expect(harness.sim.state.autoScalingGroup(member.group)!.desiredCapacity).to.equal(desiredBefore + 1);
    });

    it("removes the revoke-sessions policy and says what that means", () => {
      const roleName = harness.world.appProfile.roleName!;
      expect(record.facts.revokedRoleNames).to.deep.equal([roleName]);
      expect(harness.sim.state.rolePolicies(roleName)).to.not.have.property("ir-revoke-older-sessions");
      expect(result.stdout).to.match(/issued before the response valid again/);
    });

    it("keeps the evidence: snapshots, objects, the workstation", () => {
      const snapshots = harness.sim.state.snapshots().map((snapshot) => snapshot.snapshotId);
      expect(record.facts.snapshots?.length).to.be.greaterThan(0);
      for (const snapshot of record.facts.snapshots ?? []) expect(snapshots).to.include(snapshot.snapshotId);
      for (const object of record.facts.evidence ?? [])
        expect(harness.sim.state.object(harness.world.bucket, object.key), object.key).to.not.equal(
          undefined,
        );
      const workstation = harness.sim.state.instance(record.facts.forensic!.instanceId!);
      expect(workstation?.state).to.equal("running");
      const destructive = harness.sim.calls.filter((call) =>
        ["TerminateInstances", "DeleteVolume", "DeleteSnapshot", "DeleteObject"].includes(call.action),
      );
      expect(destructive).to.deep.equal([]);
    });

    it("records the release (who, why, undone, kept) and notifies the topic", async () => {
      const released = (await harness.record(member.instanceId))!;
      expect(released.status).to.equal("released");
      expect(released.operatorRelease).to.deep.include({
        by: operator.arn,
        reason: "false positive: a scheduled scan",
      });
      expect(released.operatorRelease?.undone.join("\n"))
        .to.contain(`Auto Scaling group: ${member.group}`)
        .and.to.contain("state: running");
      expect(released.operatorRelease?.kept.join("\n")).to.contain(record.facts.snapshots![0]!.snapshotId);
      expect(released).to.not.have.property("releaseStarted");
      const message = harness.sim.state
        .messages(harness.world.topicArn)
        .find((candidate) => candidate.subject === `[IR] released ${member.instanceId}`);
      expect(message?.message).to.contain(operator.arn).and.to.contain("a scheduled scan");
    });

    it("refuses to release it again (exit 3)", async () => {
      const again = await release(record.incidentId);
      expect(again.code).to.equal(3);
      expect(again.stderr).to.match(/already released by .*alice/);
    });
  });

  it("--standalone leaves it out of its group; --archive-finding archives the GuardDuty finding", async () => {
    const member = webTierMember();
    const found = await seeInstance(clients, member.instanceId, [member.targetGroupArn]);
    const record = await respond(member.instanceId);

    const result = await release(record.incidentId, "--standalone", "--archive-finding");

    expect(result.code, result.stderr).to.equal(0);
    const after = await seeInstance(clients, member.instanceId, [member.targetGroupArn]);
    expect(after.autoScalingGroup).to.equal(undefined);
    expectSameAsFound({ ...found, autoScalingGroup: undefined }, after);
    expect(harness.sim.state.archivedFindings()).to.include(record.finding.findingId);
  });

  it("a response started from Security Hub: its finding gets a note, its workflow is left to the analyst", async () => {
    const instanceId = standaloneInstance();
    const record = await respond(instanceId);
    // As the responder records a response started from the console's custom action (trigger.securityHubFinding).
    const securityHubFinding = {
      id: `arn:aws:guardduty:${harness.sim.region}:${harness.sim.accountId}:detector/d1/finding/f1`,
      productArn: `arn:aws:securityhub:${harness.sim.region}::product/aws/guardduty`,
    };
    await administratorDocuments().update({
      TableName: harness.env.INCIDENT_TABLE,
      Key: { pk: record.pk },
      UpdateExpression: "SET #trigger = :trigger",
      ExpressionAttributeNames: { "#trigger": "trigger" },
      ExpressionAttributeValues: { ":trigger": { kind: "security-hub", securityHubFinding } },
    });
    const before = harness.sim.state.securityHubUpdates().length;

    const result = await release(record.incidentId);

    expect(result.code, result.stderr).to.equal(0);
    const updates = harness.sim.state.securityHubUpdates().slice(before);
    expect(updates).to.have.length(1);
    expect(updates[0]?.id).to.equal(securityHubFinding.id);
    expect(updates[0]?.workflowStatus).to.equal(undefined);
    expect(updates[0]?.note?.text).to.contain("false positive").and.to.contain(operator.arn);
  });

  it("a standalone instance with no profile: the quarantine profile goes, nothing else is added", async () => {
    const instanceId = standaloneInstance();
    const found = await seeInstance(clients, instanceId, []);
    expect(found.instanceProfileArn).to.equal(undefined);
    const record = await respond(instanceId);

    const result = await release(record.incidentId);

    expect(result.code, result.stderr).to.equal(0);
    expectSameAsFound(found, await seeInstance(clients, instanceId, []));
  });

  it("after ir close (volumes detached, workstation stopped): released all the same", async () => {
    const member = webTierMember();
    const found = await seeInstance(clients, member.instanceId, [member.targetGroupArn]);
    const record = await respond(member.instanceId);
    const closed = await operator.ir("close", record.incidentId, ...WAIT);
    expect(closed.code, closed.stderr).to.equal(0);

    const result = await release(record.incidentId);

    expect(result.code, result.stderr).to.equal(0);
    expectSameAsFound(found, await seeInstance(clients, member.instanceId, [member.targetGroupArn]));
  });

  it("--dry-run prints each call it would make and changes nothing", async () => {
    const member = webTierMember();
    const record = await respond(member.instanceId);
    const before = await seeInstance(clients, member.instanceId, [member.targetGroupArn]);
    const callsBefore = harness.sim.calls.length;

    const plan = await operator.json<{ dryRun: boolean; calls: string[] }>(
      "release",
      record.incidentId,
      "--reason",
      "checking the plan",
      "--dry-run",
      ...WAIT,
    );

    expect(plan.dryRun).to.equal(true);
    const actions = plan.calls.map((call) => call.split(" ")[0]);
    for (const action of [
      "iam:DeleteRolePolicy",
      "ec2:ReplaceIamInstanceProfileAssociation",
      "ec2:ModifyNetworkInterfaceAttribute",
      "ec2:ModifyInstanceAttribute",
      "ec2:ModifyInstanceMetadataOptions",
      "ec2:DetachVolume",
      "ec2:AttachVolume",
      "ec2:StartInstances",
      "autoscaling:AttachInstances",
    ])
      expect(actions, action).to.include(action);
    const changes = harness.sim.calls
      .slice(callsBefore)
      .filter((call) => !/^(Describe|Get)/.test(call.action));
    expect(changes.map((call) => call.action)).to.deep.equal([]);
    expectSameAsFound(before, await seeInstance(clients, member.instanceId, [member.targetGroupArn]));
    expect((await harness.record(member.instanceId))?.status).to.equal("completed");
  });

  describe("refusals (exit 3, nothing changed)", () => {
    it("the instance was terminated", async () => {
      const instanceId = standaloneInstance();
      const record = await respond(instanceId);
      await clients.ec2.modifyInstanceAttribute({
        InstanceId: instanceId,
        DisableApiTermination: { Value: false },
      });
      await clients.ec2.terminateInstances({ InstanceIds: [instanceId] });

      const result = await release(record.incidentId);

      expect(result.code).to.equal(3);
      expect(result.stderr).to.match(/instance .* is (shutting-down|terminated)/);
    });

    it("a volume is no longer where the record says", async () => {
      const instanceId = standaloneInstance();
      const record = await respond(instanceId);
      const moved = record.facts.attachments!.find(
        (attachment) => attachment.source === "original",
      )!.volumeId;
      const elsewhere = standaloneInstance();
      await clients.ec2.detachVolume({ VolumeId: moved, InstanceId: record.facts.forensic!.instanceId });
      await waitUntilVolumeAvailable(
        { client: clients.ec2, minDelay: 0.02, maxDelay: 0.1, maxWaitTime: 30 },
        {
          VolumeIds: [moved],
        },
      );
      await clients.ec2.attachVolume({ VolumeId: moved, InstanceId: elsewhere, Device: "/dev/sdk" });
      const callsBefore = harness.sim.calls.length;

      const result = await release(record.incidentId);

      expect(result.code).to.equal(3);
      expect(result.stderr).to.contain(`${moved} is attached to ${elsewhere}`);
      const changes = harness.sim.calls
        .slice(callsBefore)
        .filter((call) => !/^(Describe|Get)/.test(call.action));
      expect(changes.map((call) => call.action)).to.deep.equal([]);
    });

    it("the incident is still responding", async () => {
      const instanceId = standaloneInstance();
      const started = await harness.trigger(harness.sim.scenario.findingFor(instanceId, { severity: 8 }));
      expect(started).to.have.property("outcome", "started");
      const incidentId = (started as { incidentId: string }).incidentId;

      const result = await release(incidentId);

      expect(result.code).to.equal(3);
      expect(result.stderr).to.match(/still responding/);
      await harness.settle();
    });
  });

  it("a release interrupted half-way (volumes detached, not yet attached) finishes when run again", async () => {
    const member = webTierMember();
    const found = await seeInstance(clients, member.instanceId, [member.targetGroupArn]);
    const record = await respond(member.instanceId);
    harness.sim.faults.add({
      service: "ec2",
      action: "AttachVolume",
      fault: { type: "error", code: "IncorrectState", message: "interrupted by the test" },
      count: 1,
    });

    const interrupted = await release(record.incidentId);

    expect(interrupted.code, interrupted.stderr).to.equal(1);
    const halfway = (await harness.record(member.instanceId))!;
    expect(halfway.status).to.equal("completed");
    expect(halfway).to.have.property("releaseStarted");
    const detached = record.facts.instance!.volumes.map((volume) =>
      harness.sim.state.volume(volume.volumeId),
    );
    expect(detached.some((volume) => volume?.attachment === undefined)).to.equal(true);

    const finished = await release(record.incidentId);

    expect(finished.code, finished.stderr).to.equal(0);
    expectSameAsFound(found, await seeInstance(clients, member.instanceId, [member.targetGroupArn]));
    expect((await harness.record(member.instanceId))?.status).to.equal("released");
  });
});
