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
  expectSnapshotsOf,
  expectUntrackHopFirst,
  notificationFor,
} from "./assertions";
import { startHarness, stopDynamo, type Harness } from "./harness";

describe("handler scenarios (simulator + dynalite)", function () {
  this.timeout(60_000);
  let harness: Harness;

  before(async () => {
    harness = await startHarness();
  });
  after(async () => {
    expectNothingDestroyed(harness);
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
    expect(sim.state.object(world.bucket, record.facts.report!.markdownKey)).to.not.equal(undefined);
    expect(sim.state.object(world.bucket, record.facts.report!.jsonKey)).to.not.equal(undefined);
  });

  it("the first network change comes before any other mutation, and no ENI describe precedes it", async () => {
    const { sim, world } = harness;
    const created = sim.scenario.instance({
      subnetId: world.subnetA,
      securityGroupIds: [world.appGroup],
      imageId: world.kdumpImage,
    });
    const before = sim.calls.length;

    await respond(created.instanceId);

    const calls = sim.calls.slice(before).map((call) => call.action);
    const firstModify = calls.indexOf("ModifyNetworkInterfaceAttribute");
    // Only the acceptance check (the live instance's tags and state) precedes the first change.
    expect(calls.slice(0, firstModify)).to.deep.equal(["DescribeInstances"]);
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
});

after(stopDynamo);
