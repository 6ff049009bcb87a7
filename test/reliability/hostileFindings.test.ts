// Findings whose network-interface details are wrong in ways a schema cannot see: an ENI listed in one of the
// responder's own groups (untrack, isolation), with no groups, or with one group several times. The response
// must never record, restore to or launch into the responder's groups, never record an empty or repeated list
// of original groups without saying why, and still contain the instance. The unmodified handler, end to end.
import { expect } from "chai";

import type { IncidentRecord } from "../../handler/incidentRecord";
import { callsNaming } from "../handler/assertions";
import { type Harness, type ResponseOutcome } from "../../testkit/harness";
import { sharedHarness } from "../support/sharedHarness";
import { workloadOwnerEc2 } from "../../testkit/administrator";
import { instancesOfIncident } from "./support/invariants";

type Rejected = Extract<ResponseOutcome, { outcome: "rejected" }>;

interface FindingEni {
  networkInterfaceId: string;
  securityGroups?: { groupId: string; groupName?: string }[];
}

describe("reliability: hostile network-interface details in a finding", function () {
  this.timeout(120_000);
  let harness: Harness;
  sharedHarness((started) => (harness = started));

  /**
   * An instance in the app group, without an instance profile (its replacement then needs no iam:PassRole,
   * which is not what these tests are about), launched from an image so the responder launches a replacement.
   */
  function appInstance() {
    const { sim, world } = harness;
    return sim.scenario.instance({
      subnetId: world.subnetA,
      securityGroupIds: [world.appGroup],
      imageId: world.kdumpImage,
    });
  }

  /** The simulator's finding about `instanceId` with its first ENI's groups replaced. */
  function findingWithGroups(instanceId: string, groups: FindingEni["securityGroups"] | undefined) {
    const event = harness.sim.scenario.findingFor(instanceId, { severity: 8 });
    const details = (event.detail.resource as { instanceDetails: { networkInterfaces: FindingEni[] } })
      .instanceDetails;
    const eni = details.networkInterfaces[0]!;
    if (groups === undefined) delete eni.securityGroups;
    else eni.securityGroups = groups;
    return event;
  }

  function groupsOf(networkInterfaceId: string): string[] {
    return [...(harness.sim.state.networkInterface(networkInterfaceId)?.groupIds ?? [])];
  }

  function replacementGroups(record: IncidentRecord): string[] {
    const [replacement] = instancesOfIncident(harness, record.incidentId, "replacement");
    expect(replacement, "a replacement was launched").to.not.equal(undefined);
    return groupsOf(replacement!.networkInterfaceIds[0]!);
  }

  async function respond(event: unknown): Promise<IncidentRecord> {
    const outcome = await harness.invoke(event);
    await harness.settle();
    expect(outcome.outcome, JSON.stringify(outcome).slice(0, 300)).to.equal("completed");
    const instanceId = (event as { detail: { resource: { instanceDetails: { instanceId: string } } } }).detail
      .resource.instanceDetails.instanceId;
    return (await harness.record(instanceId))!;
  }

  const responderGroupCases: [string, (world: Harness["world"]) => FindingEni["securityGroups"]][] = [
    ["the untrack group", (world) => [{ groupId: world.untrackGroup, groupName: "ir-untrack" }]],
    ["the isolation group", (world) => [{ groupId: world.isolationGroup, groupName: "ir-isolation" }]],
    [
      "its own group and the untrack group",
      (world) => [
        { groupId: world.appGroup, groupName: "web-app" },
        { groupId: world.untrackGroup, groupName: "ir-untrack" },
      ],
    ],
  ];

  for (const [what, groups] of responderGroupCases) {
    it(`a finding listing ${what} as an ENI's groups: the original groups come from the live instance, and the replacement launches into them`, async () => {
      const { world } = harness;
      const created = appInstance();
      const eniId = created.networkInterfaceIds[0]!;

      const record = await respond(findingWithGroups(created.instanceId, groups(world)));

      expect(groupsOf(eniId), "isolated").to.deep.equal([world.isolationGroup]);
      const facts = record.facts.instance!.networkInterfaces.find((eni) => eni.networkInterfaceId === eniId)!;
      expect(facts.originalGroupIds).to.deep.equal([world.appGroup]);
      expect(replacementGroups(record), "the replacement's groups").to.deep.equal([world.appGroup]);
    });

    it(`a finding listing ${what} as an ENI's groups, then a late rejection: the ENI is never "restored" into the responder's groups`, async () => {
      const { sim, world } = harness;
      const created = appInstance();
      const eniId = created.networkInterfaceIds[0]!;
      const event = findingWithGroups(created.instanceId, groups(world));
      // Excluded since GuardDuty looked: the live check refuses it after the claim.
      await workloadOwnerEc2(sim).createTags({
        Resources: [created.instanceId],
        Tags: [{ Key: "ir:exclude", Value: "true" }],
      });

      const outcome = await harness.invoke(event);
      await harness.settle();

      expect(outcome.outcome).to.equal("rejected");
      expect((outcome as Rejected).reason).to.equal("excluded-by-tag");
      expect(groupsOf(eniId), "the ENI's own groups").to.deep.equal([world.appGroup]);
      for (const call of callsNaming(harness, eniId, "ModifyNetworkInterfaceAttribute")) {
        expect(call.params.Groups, "never moved into a responder group and left").to.not.deep.equal([
          world.untrackGroup,
        ]);
      }
      const record = await harness.record(created.instanceId);
      expect(record?.status).to.equal("released");
      for (const restored of record?.facts.release?.restored ?? []) {
        expect(restored.groupIds).to.not.include(world.untrackGroup);
        expect(restored.groupIds).to.not.include(world.isolationGroup);
      }
    });
  }

  it("an ENI the finding lists with no groups: isolated after the live description, which gives its original groups", async () => {
    const { world } = harness;
    const created = appInstance();
    const eniId = created.networkInterfaceIds[0]!;

    const record = await respond(findingWithGroups(created.instanceId, []));

    expect(groupsOf(eniId)).to.deep.equal([world.isolationGroup]);
    const facts = record.facts.instance!.networkInterfaces[0]!;
    expect(facts.originalGroupIds).to.deep.equal([world.appGroup]);
    expect(facts.originalGroupsUnknown).to.equal(undefined);
    expect(replacementGroups(record), "launched into its groups, not the VPC's default").to.deep.equal([
      world.appGroup,
    ]);
  });

  it("an ENI the finding lists without a securityGroups field: the same", async () => {
    const { world } = harness;
    const created = appInstance();

    const record = await respond(findingWithGroups(created.instanceId, undefined));

    expect(record.facts.instance!.networkInterfaces[0]!.originalGroupIds).to.deep.equal([world.appGroup]);
    expect(replacementGroups(record)).to.deep.equal([world.appGroup]);
  });

  it("an ENI listing its group three times: recorded once, the replacement launched with it once", async () => {
    const { world } = harness;
    const created = appInstance();
    const group = () => ({ groupId: world.appGroup, groupName: "web-app" });

    const record = await respond(findingWithGroups(created.instanceId, [group(), group(), group()]));

    expect(record.finding.networkInterfaces[0]!.securityGroupIds).to.deep.equal([world.appGroup]);
    expect(record.facts.instance!.networkInterfaces[0]!.originalGroupIds).to.deep.equal([world.appGroup]);
    expect(replacementGroups(record)).to.deep.equal([world.appGroup]);
  });

  it("an ENI already in the isolation group before the response, the finding saying so: contained, its original groups recorded as unknown, with the reason", async () => {
    const { sim, world } = harness;
    const created = sim.scenario.instance({
      subnetId: world.subnetA,
      securityGroupIds: [world.isolationGroup],
      imageId: world.kdumpImage,
    });

    const record = await respond(sim.scenario.findingFor(created.instanceId, { severity: 8 }));

    expect(groupsOf(created.networkInterfaceIds[0]!)).to.deep.equal([world.isolationGroup]);
    const facts = record.facts.instance!.networkInterfaces[0]!;
    expect(facts.originalGroupIds).to.deep.equal([]);
    expect(facts.originalGroupsUnknown, "why the list is empty").to.be.a("string").and.not.equal("");
  });
});
