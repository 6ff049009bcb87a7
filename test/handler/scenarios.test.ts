// The whole response against the simulator, one scenario per kind of instance. Each asserts the final state of
// the simulated account and of the incident record (prepare / act / assess).

import { expect } from "chai";

import type { IncidentRecord } from "../../handler/incidentRecord";
import {
  callsNaming,
  completedRecord,
  expectAccessCut,
  expectEvidenceIntact,
  expectForensicWorkspace,
  expectIsolated,
  expectNothingDestroyed,
  expectReleased,
  expectSnapshotsOf,
  expectUntrackHopFirst,
  isolationNoticesOf,
  notificationFor,
} from "./assertions";
import { startHarness, stopDynamo, type Harness } from "../../testkit/harness";
import { workloadOwnerEc2 } from "../../testkit/administrator";
import { loadEvent } from "../support/fixtures";

describe("handler scenarios (simulator + dynalite)", function () {
  this.timeout(60_000);
  let harness: Harness;
  /** Instances the test itself terminated (the workload's doing), not the responder. */
  const workloadTerminated: string[] = [];

  before(async () => {
    harness = await startHarness();
  });
  after(async () => {
    expectNothingDestroyed(harness, workloadTerminated);
    await harness.stop();
  });

  const respond = async (instanceId: string, severity = 8): Promise<IncidentRecord> => {
    const outcome = await harness.invoke(harness.sim.scenario.findingFor(instanceId, { severity }));
    expect(outcome.outcome, JSON.stringify(outcome)).to.equal("completed");
    return completedRecord(harness, instanceId);
  };

  it("single-ENI instance: isolated through the untrack group, access cut, memory, stop, locked snapshots, workstation, replacement, report", async () => {
    const { sim, world } = harness;
    const created = sim.scenario.instance({
      subnetId: world.subnetA,
      securityGroupIds: [world.appGroup],
      imageId: world.kdumpImage,
      instanceProfile: world.appProfile.arn,
      dataVolumes: [{ sizeGiB: 8 }],
      tags: { Name: "web-1" },
    });

    const record = await respond(created.instanceId);

    expectIsolated(harness, created.instanceId, world.isolationGroup);
    expectUntrackHopFirst(harness, created.instanceId, world.untrackGroup, world.isolationGroup);
    expectAccessCut(harness, created.instanceId, world.quarantineProfileArn, world.appProfile.roleName);
    expect(record.facts.instance?.networkInterfaces[0]?.originalGroupIds).to.deep.equal([world.appGroup]);
    expectEvidenceIntact(harness, record, [
      "finding",
      "instance-description",
      "console-output",
      "screenshot",
    ]);
    expect(record.facts.memory?.method).to.equal("nmi");
    expect(sim.state.instance(created.instanceId)!.memoryDumps.length, "kdump wrote a dump").to.equal(1);
    expect(sim.state.instance(created.instanceId)!.state).to.equal("stopped");
    expectSnapshotsOf(harness, record, 2, true);
    expectForensicWorkspace(harness, record, 2);
    // Replacement (REPLACEMENT=launch, no Auto Scaling group): original security groups, responder-made tag.
    const replacementId = record.facts.replacement?.instanceId;
    const replacement = sim.state.instance(replacementId!)!;
    expect(replacement.tags.get("ir:responder-made")).to.equal("replacement");
    expect(sim.state.networkInterface(replacement.networkInterfaceIds[0]!)!.groupIds).to.deep.equal([
      world.appGroup,
    ]);
    expect(replacement.tags.get("Name")).to.equal("web-1");
    expect(notificationFor(harness, record.incidentId)).to.have.length(1);
    // People hear of the isolation when the execution starts, long before the report.
    const [notice, ...more] = isolationNoticesOf(harness, record.incidentId);
    expect(more, "one isolation notice").to.deep.equal([]);
    expect(notice?.subject).to.match(new RegExp(`^\\[IR\\] Isolated ${created.instanceId} \\(web-1\\): `));
    expect(notice?.message).to.match(/^ISOLATED: .* after \d+\.\d s\.\n/);
    expect(notice?.message).to.include(
      `report follows: s3://${world.bucket}/${record.facts.report!.markdownKey}`,
    );
    const order = sim.state.messages(world.topicArn).map((message) => message.messageId);
    const [reported] = notificationFor(harness, record.incidentId);
    expect(order.indexOf(notice!.messageId), "before the report's").to.be.below(
      order.indexOf(reported!.messageId),
    );
    expect(sim.state.object(world.bucket, record.facts.report!.markdownKey)).to.not.equal(undefined);
    expect(sim.state.object(world.bucket, record.facts.report!.jsonKey)).to.not.equal(undefined);
  });

  it("an isolation notice SNS refuses is a problem on the record; the response and its report go on", async () => {
    const { sim, world } = harness;
    const created = sim.scenario.instance({ subnetId: world.subnetA, imageId: world.kdumpImage });
    sim.faults.add({
      service: "sns",
      action: "Publish",
      count: 1,
      fault: { type: "error", code: "KMSThrottling", httpStatus: 400, message: "injected" },
    });

    const record = await respond(created.instanceId);

    expect(isolationNoticesOf(harness, record.incidentId)).to.deep.equal([]);
    expect(record.facts.problems).to.deep.include(
      "isolateNetwork: isolation notice not sent (KMSThrottlingException: injected)",
    );
    expect(notificationFor(harness, record.incidentId)[0]?.message).to.match(/Problems: .*isolation notice/);
  });

  it("the shared fixture event, verbatim (two ENIs, a VPC the stack does not know): contained end to end", async () => {
    const { sim } = harness;
    const event = loadEvent("guardduty-ec2-backdoor-two-enis") as unknown as Parameters<
      typeof sim.scenario.fromFinding
    >[0];
    const created = sim.scenario.fromFinding(event, { kdumpReady: true });

    const outcome = await harness.invoke(event);

    expect(outcome.outcome).to.equal("completed");
    const record = await completedRecord(harness, created.instanceId);
    const pair = record.facts.isolationGroups?.["vpc-0123456789abcdef0"];
    expect(pair?.createdOnDemand).to.equal(true);
    expectIsolated(harness, created.instanceId, pair!.isolation);
    expectUntrackHopFirst(harness, created.instanceId, pair!.untrack, pair!.isolation);
    expect(
      Object.fromEntries(
        record.facts.instance!.networkInterfaces.map((eni) => [eni.networkInterfaceId, eni.originalGroupIds]),
      ),
    ).to.deep.equal({
      "eni-0f1e2d3c4b5a69788": ["sg-0a1a2a3a4a5a6a7a8"],
      "eni-0c0c0c0c0c0c0c0c1": ["sg-0b1b2b3b4b5b6b7b8", "sg-0c1c2c3c4c5c6c7c8"],
    });
    expect(record.facts.memory?.method).to.equal("nmi");
    expectSnapshotsOf(harness, record, 2, true);
    expectForensicWorkspace(harness, record, 2);
  });

  it("the first network change comes before any other mutation, and no EC2 call at all precedes it", async () => {
    const { sim, world } = harness;
    const created = sim.scenario.instance({
      subnetId: world.subnetA,
      securityGroupIds: [world.appGroup],
      imageId: world.kdumpImage,
    });
    const before = sim.calls.length;

    await respond(created.instanceId);

    const ec2Calls = sim.calls.slice(before).filter((call) => call.service === "ec2");
    const firstModify = ec2Calls.findIndex((call) => call.action === "ModifyNetworkInterfaceAttribute");
    // The finding's ENIs move first: the live DescribeInstances comes after, beside the isolation hop.
    expect(ec2Calls.slice(0, firstModify).map((call) => call.action)).to.deep.equal([]);
    const untrack = ec2Calls[firstModify]!;
    expect(untrack.params.Groups).to.deep.equal([world.untrackGroup]);
    const isolation = ec2Calls.find(
      (call) =>
        call.action === "ModifyNetworkInterfaceAttribute" &&
        JSON.stringify(call.params.Groups) === JSON.stringify([world.isolationGroup]),
    )!;
    const describe = ec2Calls.find((call) => call.action === "DescribeInstances")!;
    expect(describe.simStart, "the describe waits for the first change").to.be.at.least(untrack.simEnd);
    expect(isolation.simStart, "the isolation hop does not wait for the describe").to.be.below(
      describe.simEnd,
    );
  });

  it("cutTrackedConnections off: each ENI moves once, straight into the isolation group", async () => {
    const { sim, world } = harness;
    const direct = await harness.withSettings({ CUT_TRACKED_CONNECTIONS: "false" });
    const created = sim.scenario.instance({
      subnetId: world.subnetA,
      securityGroupIds: [world.appGroup],
      imageId: world.kdumpImage,
    });

    const outcome = await direct.invoke(sim.scenario.findingFor(created.instanceId, { severity: 8 }));

    expect(outcome.outcome).to.equal("completed");
    const moves = sim.calls.filter(
      (call) =>
        call.action === "ModifyNetworkInterfaceAttribute" &&
        call.params.NetworkInterfaceId === created.networkInterfaceIds[0],
    );
    expect(moves.map((call) => call.params.Groups)).to.deep.equal([[world.isolationGroup]]);
    expect(sim.state.networkInterface(created.networkInterfaceIds[0]!)!.groupIds).to.deep.equal([
      world.isolationGroup,
    ]);
  });

  it("two ENIs in two subnets: both isolated, both ENIs' original groups recorded", async () => {
    const { sim, world } = harness;
    const backend = sim.scenario.securityGroup({ vpcId: world.vpcId, groupName: "backend" });
    const created = sim.scenario.instance({
      subnetId: world.subnetA,
      securityGroupIds: [world.appGroup],
      imageId: world.kdumpImage,
      extraNetworkInterfaces: [{ subnetId: world.subnetA2, securityGroupIds: [backend, world.appGroup] }],
    });

    const record = await respond(created.instanceId);

    expect(created.networkInterfaceIds).to.have.length(2);
    expectIsolated(harness, created.instanceId, world.isolationGroup);
    expectUntrackHopFirst(harness, created.instanceId, world.untrackGroup, world.isolationGroup);
    const originals = Object.fromEntries(
      (record.facts.instance?.networkInterfaces ?? []).map((eni) => [
        eni.networkInterfaceId,
        eni.originalGroupIds,
      ]),
    );
    expect(originals).to.deep.equal({
      [created.networkInterfaceIds[0]!]: [world.appGroup],
      [created.networkInterfaceIds[1]!]: [backend, world.appGroup],
    });
  });

  it("instance in an Auto Scaling group behind a target group: detached with capacity kept, deregistered, the group replaces it", async () => {
    const { sim, world } = harness;
    const targetGroupArn = sim.scenario.targetGroup({ name: "web-tg", vpcId: world.vpcId, port: 80 });
    const template = sim.scenario.launchTemplate({
      name: "web-lt",
      imageId: world.kdumpImage,
      instanceType: "m6i.large",
      securityGroupIds: [world.appGroup],
    });
    sim.scenario.autoScalingGroup({
      name: "web-asg",
      launchTemplate: template.name,
      subnetIds: [world.subnetA],
      targetGroupArns: [targetGroupArn],
    });
    const created = sim.scenario.instance({
      subnetId: world.subnetA,
      securityGroupIds: [world.appGroup],
      imageId: world.kdumpImage,
      autoScalingGroup: "web-asg",
      targetGroupArns: [targetGroupArn],
    });
    const desiredBefore = sim.state.autoScalingGroup("web-asg")!.desiredCapacity;
    const unrelatedGroup = sim.scenario.targetGroup({ name: "other-tg", vpcId: world.vpcId, port: 443 });
    const callsBefore = sim.calls.length;

    const record = await respond(created.instanceId);

    // A member is looked for only in its Auto Scaling group's target groups, not in every group of the VPC.
    const lookups = sim.calls.slice(callsBefore).filter((call) => call.action.startsWith("DescribeTarget"));
    expect(lookups.map((call) => call.action)).to.deep.equal(["DescribeTargetHealth"]);
    expect(JSON.stringify(lookups[0]!.params)).to.include(targetGroupArn).and.not.include(unrelatedGroup);

    const group = sim.state.autoScalingGroup("web-asg")!;
    const membership = group.members.find((member) => member.instanceId === created.instanceId);
    expect(
      membership === undefined || ["Detaching", "Detached"].includes(membership.lifecycleState),
    ).to.equal(true);
    expect(group.desiredCapacity, "desired capacity kept").to.equal(desiredBefore);
    const target = sim.state
      .targetGroup(targetGroupArn)!
      .targets.find((candidate) => candidate.id === created.instanceId);
    expect(
      target === undefined || ["draining", "unused"].includes(target.state),
      JSON.stringify(target),
    ).to.equal(true);
    expect(record.facts.autoScalingGroupName).to.equal("web-asg");
    expect(record.facts.targetRegistrations).to.deep.equal([{ targetGroupArn, port: 80 }]);
    expect(record.facts.replacement?.by).to.equal("auto-scaling-group");
    // The responder launched no replacement of its own: the group does it.
    const launches = callsNaming(harness, record.incidentId, "RunInstances").filter((call) =>
      JSON.stringify(call.params).includes('"replacement"'),
    );
    expect(launches).to.deep.equal([]);
    expect(sim.state.instance(created.instanceId)!.state, "stopped, not terminated by the group").to.equal(
      "stopped",
    );
  });

  it("Graviton: the diagnostic interrupt is sent (EC2 offers it on every Nitro type but A1) and kdump dumps", async () => {
    const { sim, world } = harness;
    const created = sim.scenario.instance({
      subnetId: world.subnetA,
      instanceType: "m7g.large",
      kdumpReady: true,
    });

    const record = await respond(created.instanceId);

    expect(callsNaming(harness, created.instanceId, "SendDiagnosticInterrupt")).to.have.length(1);
    expect(record.facts.memory?.method).to.equal("nmi");
    expect(sim.state.instance(created.instanceId)!.memoryDumps).to.have.length(1);
    expect(sim.state.instance(created.instanceId)!.state).to.equal("stopped");
  });

  it("kdump-ready on the AMI: NMI, then the wait ends on the kdump power-off, well before the grace", async () => {
    const { sim, world } = harness;
    const created = sim.scenario.instance({
      subnetId: world.subnetA,
      imageId: world.kdumpImage,
      instanceType: "r6i.2xlarge",
    });

    const record = await respond(created.instanceId);

    expect(callsNaming(harness, created.instanceId, "SendDiagnosticInterrupt")).to.have.length(1);
    expect(record.facts.memory?.poweredOff).to.equal(true);
    expect(sim.state.instance(created.instanceId)!.memoryDumps).to.have.length(1);
    // Grace for 64 GiB: 60 s + 64 x 15 s (simulated) — the power-off came first, by polling.
    expect(record.facts.memory?.graceMs).to.equal(Math.round(((60 + 64 * 15) / 200) * 1000));
  });

  it("not kdump-ready: no NMI (it would only crash the kernel without a dump)", async () => {
    const { sim, world } = harness;
    const created = sim.scenario.instance({ subnetId: world.subnetA, imageId: world.plainImage });

    const record = await respond(created.instanceId);

    expect(callsNaming(harness, created.instanceId, "SendDiagnosticInterrupt")).to.deep.equal([]);
    expect(record.facts.memory?.reason).to.match(/not kdump-ready/);
    expect(sim.state.instance(created.instanceId)!.state).to.equal("stopped");
    // STOP_MODE forced (the default): the plug is pulled, no shutdown script runs; the disks were secured first.
    const stops = callsNaming(harness, created.instanceId, "StopInstances");
    expect(stops.map((call) => call.params.Force)).to.deep.equal([true]);
    expect(record.steps.stopInstance?.outcome).to.equal("stopped (forced)");
    expectSnapshotsOf(harness, record, 1, true);
  });

  it("hibernation configured and no NMI possible: hibernated (RAM to the root volume), then snapshotted", async () => {
    const { sim, world } = harness;
    const created = sim.scenario.instance({
      subnetId: world.subnetA,
      imageId: world.plainImage,
      hibernation: true,
    });

    const record = await respond(created.instanceId);

    const stops = callsNaming(harness, created.instanceId, "StopInstances");
    expect(stops[0]?.params.Hibernate).to.equal(true);
    expect(record.facts.memory?.method).to.equal("hibernate");
    expect(sim.state.instance(created.instanceId)!.hibernated).to.equal(true);
    expectSnapshotsOf(harness, record, 1, true);
  });

  it("instance-store root: cannot be stopped; stays running, isolated, and the record says why", async () => {
    const { sim, world } = harness;
    const created = sim.scenario.instance({
      subnetId: world.subnetA,
      instanceType: "m5d.large",
      rootDeviceType: "instance-store",
    });

    const record = await respond(created.instanceId);

    expect(sim.state.instance(created.instanceId)!.state).to.equal("running");
    expectIsolated(harness, created.instanceId, world.isolationGroup);
    expect(record.steps.stopInstance?.status).to.equal("skipped");
    expect(record.facts.stop?.reason).to.match(/instance-store root/);
    expect(callsNaming(harness, created.instanceId, "StopInstances")).to.deep.equal([]);
    expect(callsNaming(harness, created.instanceId, "SendDiagnosticInterrupt")).to.deep.equal([]);
    expect(record.steps.launchForensicInstance?.status, "nothing on EBS: no workstation").to.equal("skipped");
    expect(record.facts.forensic).to.equal(undefined);
  });

  it("one-time Spot: AWS refuses the stop; it stays running, isolated; the workstation gets snapshot copies", async () => {
    const { sim, world } = harness;
    const created = sim.scenario.instance({
      subnetId: world.subnetA,
      imageId: world.plainImage,
      market: "spot-one-time",
    });

    const record = await respond(created.instanceId);

    expect(sim.state.instance(created.instanceId)!.state).to.equal("running");
    expectIsolated(harness, created.instanceId, world.isolationGroup);
    expect(record.steps.stopInstance?.status).to.equal("skipped");
    expect(record.facts.stop?.reason).to.match(/cannot be stopped/);
    expectSnapshotsOf(harness, record, 1, true);
    expectForensicWorkspace(harness, record, 1);
    expect(record.facts.attachments?.[0]?.source).to.equal("copy");
    expect(
      sim.state.volume(created.volumeIds[0]!)!.attachment?.instanceId,
      "the root stays on the running instance",
    ).to.equal(created.instanceId);
  });

  it("stop protection (DisableApiStop) on the instance: turned off, then stopped", async () => {
    const { sim, world } = harness;
    const created = sim.scenario.instance({ subnetId: world.subnetA, imageId: world.plainImage });
    const ec2 = workloadOwnerEc2(sim);
    await ec2.modifyInstanceAttribute({ InstanceId: created.instanceId, DisableApiStop: { Value: true } });

    const record = await respond(created.instanceId);

    expect(record.facts.stop?.stopProtectionRemoved).to.equal(true);
    expect(sim.state.instance(created.instanceId)!.state).to.equal("stopped");
  });

  it("already stopped: no NMI, no stop call, snapshots and the workstation as usual", async () => {
    const { sim, world } = harness;
    const created = sim.scenario.instance({
      subnetId: world.subnetA,
      imageId: world.kdumpImage,
      state: "stopped",
      dataVolumes: [{ sizeGiB: 4 }],
    });

    const record = await respond(created.instanceId);

    expect(callsNaming(harness, created.instanceId, "SendDiagnosticInterrupt")).to.deep.equal([]);
    expect(callsNaming(harness, created.instanceId, "StopInstances")).to.deep.equal([]);
    expect(record.facts.memory?.reason).to.match(/stopped/);
    expectSnapshotsOf(harness, record, 2, true);
    expectForensicWorkspace(harness, record, 2);
  });

  it("terminated before the response: rejected late (instance gone), nothing changed, the incident released", async () => {
    const { sim, world } = harness;
    const created = sim.scenario.instance({ subnetId: world.subnetA });
    const event = sim.scenario.findingFor(created.instanceId, { severity: 8 });
    const eniId = created.networkInterfaceIds[0]!;
    const original = [...sim.state.networkInterface(eniId)!.groupIds];
    const ec2 = workloadOwnerEc2(sim);
    await ec2.terminateInstances({ InstanceIds: [created.instanceId] }); // the workload's own doing, not ours
    workloadTerminated.push(created.instanceId);
    await sim.sleep(120_000);
    const before = sim.calls.length;

    const outcome = await harness.invoke(event);

    // The finding's ENI is moved at once (it went with the instance: NotFound), the describe says gone.
    expect(outcome).to.deep.include({ outcome: "rejected", reason: "instance-gone" });
    const calls = sim.calls.slice(before).filter((call) => call.service !== "dynamodb");
    expect(calls[0]?.action).to.equal("ModifyNetworkInterfaceAttribute");
    expect(calls.map((call) => call.action)).to.include("DescribeInstances");
    const record = await expectReleased(
      harness,
      created.instanceId,
      "instance-gone",
      { [eniId]: original },
      before,
    );
    expect((outcome as { incidentId?: string }).incidentId).to.equal(record.incidentId);

    // A repeat finding is evaluated afresh (not appended to the released incident).
    const again = await harness.invoke(sim.scenario.findingFor(created.instanceId, { severity: 8 }));
    expect(again).to.deep.include({ outcome: "rejected", reason: "instance-gone" });
    const fresh = (await harness.record(created.instanceId))!;
    expect(fresh.status).to.equal("released");
    expect(fresh.createdAt, "a new incident, not the released one").to.not.equal(record.createdAt);
    expect(fresh.incidentId, "its own id (evidence prefix, client tokens)").to.not.equal(record.incidentId);
    expect(Object.keys(fresh.findings)).to.have.length(1);
  });

  it("unknown VPC: a tagged untrack/isolation pair (and forensic group) is created on demand; isolation has no egress", async () => {
    const { sim } = harness;
    const vpc = sim.scenario.vpc({
      cidrBlock: "10.99.0.0/16",
      subnets: [{ availabilityZone: `${sim.region}a`, cidrBlock: "10.99.1.0/24" }],
    });
    const created = sim.scenario.instance({
      subnetId: vpc.subnets[0]!.subnetId,
      imageId: harness.world.kdumpImage,
    });

    const record = await respond(created.instanceId);

    const pair = record.facts.isolationGroups?.[vpc.vpcId];
    expect(pair?.createdOnDemand).to.equal(true);
    const isolation = sim.state.securityGroup(pair!.isolation)!;
    expect(isolation.tags.get("ir:role")).to.equal("isolation");
    expect(isolation.tags.get("ir:managed-by")).to.equal("ec2-incident-response");
    expect(isolation.egress, "isolation egress").to.deep.equal([]);
    expect(isolation.ingress.map((rule) => rule.cidrIpv4)).to.deep.equal(["192.0.2.0/24"]);
    expect(sim.state.securityGroup(pair!.untrack)!.tags.get("ir:role")).to.equal("untrack");
    expectIsolated(harness, created.instanceId, pair!.isolation);
    const forensic = sim.state.instance(record.facts.forensic!.instanceId!)!;
    const forensicGroups = sim.state.networkInterface(forensic.networkInterfaceIds[0]!)!.groupIds;
    expect(sim.state.securityGroup(forensicGroups[0]!)!.tags.get("ir:role")).to.equal("forensic");

    // A second incident in the same VPC reuses the pair instead of creating another.
    const neighbour = sim.scenario.instance({ subnetId: vpc.subnets[0]!.subnetId });
    const second = await respond(neighbour.instanceId);
    expect(second.facts.isolationGroups?.[vpc.vpcId]?.isolation).to.equal(pair!.isolation);
    expect(
      sim.state
        .securityGroups()
        .filter((group) => group.vpcId === vpc.vpcId && group.tags.get("ir:role") === "isolation"),
    ).to.have.length(1);
  });

  it("exclusion tag, in the finding (rejected, no call) or added on the live instance since (released: ENI back in its groups, nothing else changed)", async () => {
    const { sim, world } = harness;
    const tagged = sim.scenario.instance({ subnetId: world.subnetA, tags: { "ir:exclude": "true" } });
    const before = sim.calls.length;
    const fromFinding = await harness.invoke(sim.scenario.findingFor(tagged.instanceId, { severity: 8 }));
    expect(fromFinding).to.deep.include({ outcome: "rejected", reason: "excluded-by-tag" });
    expect(sim.calls.length, "no AWS call for a finding that names the tag").to.equal(before);
    expect(await harness.record(tagged.instanceId), "no incident").to.equal(undefined);

    const later = sim.scenario.instance({
      subnetId: world.subnetA,
      securityGroupIds: [world.appGroup],
      imageId: world.kdumpImage,
    });
    const eniId = later.networkInterfaceIds[0]!;
    const event = sim.scenario.findingFor(later.instanceId, { severity: 8 });
    const ec2 = workloadOwnerEc2(sim);
    await ec2.createTags({ Resources: [later.instanceId], Tags: [{ Key: "ir:exclude", Value: "true" }] });
    const mark = sim.calls.length;

    const fromLive = await harness.invoke(event);

    expect(fromLive).to.deep.include({ outcome: "rejected", reason: "excluded-by-tag" });
    const record = await expectReleased(
      harness,
      later.instanceId,
      "excluded-by-tag",
      { [eniId]: [world.appGroup] },
      mark,
    );
    expect(record.facts.release?.restored).to.deep.equal([
      { networkInterfaceId: eniId, groupIds: [world.appGroup] },
    ]);
    const moves = callsNaming(harness, eniId, "ModifyNetworkInterfaceAttribute").map(
      (call) => call.params.Groups,
    );
    expect(moves.at(-1), "last move: back to the original groups").to.deep.equal([world.appGroup]);

    // The exclusion lifted again, a new finding: evaluated afresh and answered in full.
    await ec2.createTags({ Resources: [later.instanceId], Tags: [{ Key: "ir:exclude", Value: "false" }] });
    const retried = await respond(later.instanceId);
    expect(retried.createdAt, "a new incident, not the released one").to.not.equal(record.createdAt);
    expect(retried.incidentId, "its own id (evidence prefix, client tokens)").to.not.equal(record.incidentId);
    expectIsolated(harness, later.instanceId, world.isolationGroup);
    expect(retried.facts.instance?.networkInterfaces[0]?.originalGroupIds).to.deep.equal([world.appGroup]);
  });

  it("the responder's own forensic instance: rejected, never responded to; released at once when only the live instance shows it", async () => {
    const { sim, world } = harness;
    const created = sim.scenario.instance({ subnetId: world.subnetA, imageId: world.kdumpImage });
    const record = await respond(created.instanceId);
    const forensicId = record.facts.forensic!.instanceId!;
    const forensicEni = sim.state.instance(forensicId)!.networkInterfaceIds[0]!;
    const forensicGroups = [...sim.state.networkInterface(forensicEni)!.groupIds];
    const before = sim.calls.length;

    const outcome = await harness.invoke(sim.scenario.findingFor(forensicId, { severity: 9 }));

    expect(outcome).to.deep.include({ outcome: "rejected", reason: "responder-made-instance" });
    expect(sim.calls.length).to.equal(before);

    // A finding that does not list the instance's tags (GuardDuty's view may lag): only the live check knows.
    const untagged = sim.scenario.findingFor(forensicId, { severity: 9 });
    (untagged.detail.resource.instanceDetails as { tags: unknown[] }).tags = [];
    const mark = sim.calls.length;
    const late = await harness.invoke(untagged);

    expect(late).to.deep.include({ outcome: "rejected", reason: "responder-made-instance" });
    await expectReleased(
      harness,
      forensicId,
      "responder-made-instance",
      { [forensicEni]: forensicGroups },
      mark,
    );
    expect(sim.state.instance(forensicId)!.state).to.equal("running");
  });

  it("AZ matching: an instance in the second AZ gets its workstation in that AZ's forensic subnet", async () => {
    const { sim, world } = harness;
    const created = sim.scenario.instance({
      subnetId: world.subnetB,
      imageId: world.kdumpImage,
      dataVolumes: [{ sizeGiB: 4 }],
    });

    const record = await respond(created.instanceId);

    expect(record.facts.instance?.availabilityZone).to.equal(`${sim.region}b`);
    expect(record.facts.forensic?.subnetId).to.equal(world.subnetB);
    expectForensicWorkspace(harness, record, 2);
  });

  it("three or more volumes: all detached (with InstanceId) and all attached on distinct free device names", async () => {
    const { sim, world } = harness;
    const created = sim.scenario.instance({
      subnetId: world.subnetA,
      imageId: world.kdumpImage,
      dataVolumes: [{ sizeGiB: 4 }, { sizeGiB: 4 }, { sizeGiB: 4 }, { sizeGiB: 2, deviceName: "/dev/sdk" }],
    });

    const record = await respond(created.instanceId);

    expectSnapshotsOf(harness, record, 5, true);
    expectForensicWorkspace(harness, record, 5);
    for (const call of callsNaming(harness, created.instanceId, "DetachVolume"))
      expect(call.params.InstanceId).to.equal(created.instanceId);
    expect(record.facts.attachments?.map((attachment) => attachment.source)).to.deep.equal(
      Array(5).fill("original"),
    );
  });

  it("replacement without an Auto Scaling group: launched from its launch template with the ORIGINAL groups, registered in its target group", async () => {
    const { sim, world } = harness;
    const targetGroupArn = sim.scenario.targetGroup({ name: "api-tg", vpcId: world.vpcId, port: 8080 });
    const template = sim.scenario.launchTemplate({
      name: "api-lt",
      imageId: world.kdumpImage,
      instanceType: "m6i.large",
      securityGroupIds: [world.appGroup],
    });
    const created = sim.scenario.instance({
      subnetId: world.subnetA,
      imageId: world.kdumpImage,
      securityGroupIds: [world.appGroup],
      targetGroupArns: [targetGroupArn],
      tags: { "aws:ec2launchtemplate:id": template.launchTemplateId, "aws:ec2launchtemplate:version": "1" },
    });

    const record = await respond(created.instanceId);

    const replacementId = record.facts.replacement?.instanceId;
    expect(record.facts.replacement?.reason).to.match(/launch template/);
    const launch = callsNaming(harness, record.incidentId, "RunInstances").find((call) =>
      JSON.stringify(call.params).includes('"replacement"'),
    );
    expect(JSON.stringify(launch?.params)).to.include(template.launchTemplateId);
    const replacement = sim.state.instance(replacementId!)!;
    expect(sim.state.networkInterface(replacement.networkInterfaceIds[0]!)!.groupIds).to.deep.equal([
      world.appGroup,
    ]);
    const targets = sim.state.targetGroup(targetGroupArn)!.targets;
    expect(
      targets.some((target) => target.id === replacementId && target.port === 8080),
      JSON.stringify(targets),
    ).to.equal(true);
  });

  it("notification: a person reads what happened, which instance, where the evidence is and what failed", async () => {
    const { sim, world } = harness;
    const created = sim.scenario.instance({
      subnetId: world.subnetA,
      instanceType: "m7g.large",
      tags: { Name: "payments-7" },
    });

    const record = await respond(created.instanceId);

    const [message] = notificationFor(harness, record.incidentId);
    expect(message?.subject).to.match(/^\[IR\] Contained i-[0-9a-f]+ \(payments-7\): /);
    expect(message!.subject!.length).to.be.at.most(100);
    const lines = message!.message.split("\n");
    expect(lines.length, "short enough to read in ten seconds").to.be.at.most(10);
    expect(lines[0]).to.match(/^CONTAINED: i-[0-9a-f]+ \(payments-7\) in eu-central-1a$/);
    expect(message!.message).to.include(record.finding.type);
    expect(message!.message).to.match(/Memory: .*not kdump-ready/);
    expect(message!.message).to.include(`s3://${world.bucket}/incidents/${record.incidentId}/report.md`);
    expect(message!.message).to.match(/Forensic workstation: i-[0-9a-f]+, 1 volume\(s\) attached/);
    expect(message!.message).to.include("Problems: none.");
  });
});

after(stopDynamo);
