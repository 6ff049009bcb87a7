// Drill events (source ir.drill) can be put on the default bus by anyone allowed events:PutEvents, and the finding
// inside is theirs to write. Only aws.guardduty events (which no one else can send) keep the describe-free critical
// path; any other source is checked against the live instance (it exists, carries ir:drill=true, the ENIs named
// are its own) before the first change. These run the unmodified handler against the simulator.
import { expect } from "chai";

import { type Harness, type ResponseOutcome } from "../../testkit/harness";
import { sharedHarness } from "../support/sharedHarness";
import { callsNaming, completedRecord, expectIsolated } from "./assertions";
import { isReadOnlyAction } from "../reliability/support/invariants";

type Rejected = Extract<ResponseOutcome, { outcome: "rejected" }>;

describe("handler: forged drill events (source ir.drill)", function () {
  this.timeout(120_000);
  let harness: Harness;
  sharedHarness((started) => (harness = started));

  /** A production instance: in the app group, no drill tag. */
  function production() {
    const { sim, world } = harness;
    return sim.scenario.instance({
      subnetId: world.subnetA,
      securityGroupIds: [world.appGroup],
      imageId: world.kdumpImage,
      tags: { Name: "payments-1" },
    });
  }

  /** A drill target: tagged ir:drill=true, in the app group. */
  function drillTarget() {
    const { sim, world } = harness;
    return sim.scenario.instance({
      subnetId: world.subnetA,
      securityGroupIds: [world.appGroup],
      imageId: world.kdumpImage,
      tags: { Name: "drill-1", "ir:drill": "true" },
    });
  }

  /** A drill event about `instanceId` whose finding claims ir:drill=true, as a forger writes it. */
  function forgedDrill(instanceId: string) {
    const event = harness.sim.scenario.findingFor(instanceId, { severity: 8, source: "ir.drill" });
    const details = (event.detail.resource as { instanceDetails: { tags: { key: string; value: string }[] } })
      .instanceDetails;
    details.tags.push({ key: "ir:drill", value: "true" });
    return event;
  }

  function groupsOf(networkInterfaceIds: readonly string[]): Record<string, string[]> {
    return Object.fromEntries(
      networkInterfaceIds.map((id) => [id, [...(harness.sim.state.networkInterface(id)?.groupIds ?? [])]]),
    );
  }

  it("a forged drill event naming an untagged production instance moves none of its ENIs: not-a-drill-target", async () => {
    const { sim } = harness;
    const victim = production();
    const groupsBefore = groupsOf(victim.networkInterfaceIds);
    const before = sim.calls.length;

    // Repeated, as a forger would, to flap the instance through the allow-all group.
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const outcome = await harness.invoke(forgedDrill(victim.instanceId));
      expect(outcome.outcome).to.equal("rejected");
      expect((outcome as Rejected).reason).to.equal("not-a-drill-target");
      expect((outcome as Rejected).detail).to.match(/not tagged ir:drill=true/);
    }
    await harness.settle();

    const calls = sim.calls.slice(before);
    expect(
      calls.filter((call) => call.action === "ModifyNetworkInterfaceAttribute"),
      "ModifyNetworkInterfaceAttribute calls",
    ).to.deep.equal([]);
    expect(
      calls.filter((call) => !isReadOnlyAction(call.action)).map((call) => call.action),
      "AWS changes",
    ).to.deep.equal([]);
    expect(groupsOf(victim.networkInterfaceIds)).to.deep.equal(groupsBefore);
    expect(await harness.record(victim.instanceId), "no incident claimed").to.equal(undefined);
  });

  it("a drill event about a drill target that names another instance's ENIs moves none of them", async () => {
    const { sim } = harness;
    const victim = production();
    const target = drillTarget();
    const victimGroups = groupsOf(victim.networkInterfaceIds);
    const event = sim.scenario.findingFor(target.instanceId, { severity: 8, source: "ir.drill" });
    const details = (event.detail.resource as { instanceDetails: { networkInterfaces: unknown[] } })
      .instanceDetails;
    const victimFinding = sim.scenario.findingFor(victim.instanceId, { severity: 8 });
    details.networkInterfaces = (
      victimFinding.detail.resource as { instanceDetails: { networkInterfaces: unknown[] } }
    ).instanceDetails.networkInterfaces;
    const before = sim.calls.length;

    const outcome = await harness.invoke(event);
    await harness.settle();

    expect(outcome.outcome).to.equal("rejected");
    expect((outcome as Rejected).reason).to.equal("foreign-network-interface");
    for (const eniId of victim.networkInterfaceIds) {
      expect(
        sim.calls.slice(before).filter((call) => JSON.stringify(call.params).includes(eniId)),
        `calls naming ${eniId}`,
      ).to.deep.equal([]);
    }
    expect(
      sim.calls.slice(before).filter((call) => call.action === "ModifyNetworkInterfaceAttribute"),
    ).to.deep.equal([]);
    expect(groupsOf(victim.networkInterfaceIds)).to.deep.equal(victimGroups);
    expect(await harness.record(target.instanceId), "no incident claimed").to.equal(undefined);
  });

  it("a genuine drill is answered, with the live instance described before the first change", async () => {
    const { sim, world } = harness;
    const target = drillTarget();
    const before = sim.calls.length;

    const outcome = await harness.invoke(
      sim.scenario.findingFor(target.instanceId, { severity: 8, source: "ir.drill" }),
    );
    await harness.settle();

    expect(outcome.outcome).to.equal("completed");
    const ec2Calls = sim.calls.slice(before).filter((call) => call.service === "ec2");
    const firstModify = ec2Calls.findIndex((call) => call.action === "ModifyNetworkInterfaceAttribute");
    const firstDescribe = ec2Calls.findIndex((call) => call.action === "DescribeInstances");
    expect(firstDescribe, "a describe").to.be.at.least(0);
    expect(firstDescribe, "the describe comes before the first ENI move").to.be.below(firstModify);
    expect(ec2Calls[firstDescribe]!.simEnd, "answered before the move is sent").to.be.at.most(
      ec2Calls[firstModify]!.simStart,
    );
    expectIsolated(harness, target.instanceId, world.isolationGroup);
    const record = await completedRecord(harness, target.instanceId);
    expect(record.facts.instance?.networkInterfaces.map((eni) => eni.originalGroupIds)).to.deep.equal([
      [world.appGroup],
    ]);
    expect(
      callsNaming(harness, target.networkInterfaceIds[0]!, "ModifyNetworkInterfaceAttribute"),
    ).to.have.length(2);
  });

  it("a GuardDuty finding keeps the describe-free critical path", async () => {
    const { sim } = harness;
    const created = production();
    const before = sim.calls.length;

    const outcome = await harness.invoke(sim.scenario.findingFor(created.instanceId, { severity: 8 }));
    await harness.settle();

    expect(outcome.outcome).to.equal("completed");
    const ec2Calls = sim.calls.slice(before).filter((call) => call.service === "ec2");
    expect(ec2Calls[0]?.action).to.equal("ModifyNetworkInterfaceAttribute");
  });
});
