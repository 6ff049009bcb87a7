// A response asked for by a person ({"ir:respond": …}, the synchronous direct invoke `ir respond` makes), end to end
// against the simulator: the live instance checked before any change, the same containment and execution as a
// finding, the trigger and the attributes as found recorded; and malformed requests that change nothing.
import { expect } from "chai";

import { type Harness } from "../../testkit/harness";
import { sharedHarness } from "../support/sharedHarness";
import { workloadOwnerEc2 } from "../../testkit/administrator";
import type { RequestOutcome } from "../../handler/requestedResponse";
import { REASON_LIMIT } from "../../handler/acceptance/requested";
import { completedRecord, expectIsolated } from "./assertions";
import { isReadOnlyAction } from "../reliability/support/invariants";

const CALLER = "arn:aws:sts::111122223333:assumed-role/incident-responders/alice";

describe("handler: requested responses (ir:respond)", function () {
  this.timeout(120_000);
  let harness: Harness;
  sharedHarness((started) => (harness = started));

  function instance(tags: Record<string, string> = {}) {
    const { sim, world } = harness;
    return sim.scenario.instance({
      subnetId: world.subnetA,
      securityGroupIds: [world.appGroup],
      imageId: world.kdumpImage,
      tags: { Name: "suspect-1", ...tags },
      shutdownBehavior: "terminate",
    });
  }

  function request(instanceId: string, extra: Record<string, unknown> = {}) {
    return { "ir:respond": { instanceId, reason: "beaconing to a known C2", requestedBy: CALLER, ...extra } };
  }

  async function respond(payload: unknown): Promise<RequestOutcome> {
    return (await harness.trigger(payload)) as RequestOutcome;
  }

  function changesSince(before: number) {
    return harness.sim.calls
      .slice(before)
      .filter((call) => !isReadOnlyAction(call.action))
      .map((call) => call.action);
  }

  it("contains, starts the execution and records the trigger and the attributes as found", async () => {
    const { sim, world } = harness;
    const created = instance();
    await workloadOwnerEc2(sim).modifyInstanceAttribute({
      InstanceId: created.instanceId,
      DisableApiStop: { Value: true },
    });
    const before = sim.calls.length;

    const outcome = await respond(request(created.instanceId));

    expect(outcome.outcome, JSON.stringify(outcome)).to.equal("contained");
    const contained = outcome as Extract<RequestOutcome, { outcome: "contained" }>;
    expect(contained.incidentId).to.contain(created.instanceId);
    const ec2Calls = sim.calls.slice(before).filter((call) => call.service === "ec2");
    expect(ec2Calls[0]?.action, "the live instance is described before any change").to.equal(
      "DescribeInstances",
    );
    expect(ec2Calls[0]!.simEnd).to.be.at.most(
      ec2Calls.find((call) => call.action === "ModifyNetworkInterfaceAttribute")!.simStart,
    );
    const execution = await sim.stepFunctions.waitForExecution(contained.executionArn);
    await harness.settle();
    expect(execution.status).to.equal("SUCCEEDED");

    expectIsolated(harness, created.instanceId, world.isolationGroup);
    const record = await completedRecord(harness, created.instanceId);
    expect(record.trigger).to.deep.equal({
      kind: "manual",
      requestedBy: CALLER,
      reason: "beaconing to a known C2",
      overrideExclusion: false,
    });
    expect(record.finding.source).to.equal("ir.respond");
    expect(record.facts.instance?.asFound).to.deep.equal({
      httpEndpoint: "enabled",
      disableApiTermination: false,
      instanceInitiatedShutdownBehavior: "terminate",
      disableApiStop: true,
    });
    // What the response changed, and what the record says it found.
    const now = sim.state.instance(created.instanceId)!;
    expect(now.disableApiTermination).to.equal(true);
    expect(now.shutdownBehavior).to.equal("stop");
    expect(record.facts.stop?.stopProtectionRemoved).to.equal(true);
  });

  it("a GuardDuty finding's response records the attributes as found too", async () => {
    const created = instance();
    const outcome = await harness.invoke(
      harness.sim.scenario.findingFor(created.instanceId, { severity: 8 }),
    );
    expect(outcome.outcome).to.equal("completed");
    const record = await completedRecord(harness, created.instanceId);
    expect(record.trigger).to.deep.include({ kind: "guardduty" });
    expect(record.facts.instance?.asFound).to.deep.equal({
      httpEndpoint: "enabled",
      disableApiTermination: false,
      instanceInitiatedShutdownBehavior: "terminate",
      disableApiStop: false,
    });
  });

  it("an attribute EC2 will not describe is a problem, never a held-back containment", async () => {
    const { sim } = harness;
    const created = instance();
    sim.faults.add({
      service: "ec2",
      action: "DescribeInstanceAttribute",
      fault: { type: "error", code: "UnauthorizedOperation", httpStatus: 403 },
    });
    try {
      const outcome = await harness.invoke(sim.scenario.findingFor(created.instanceId, { severity: 8 }));
      expect(outcome.outcome).to.equal("completed");
    } finally {
      sim.faults.clear();
    }
    const record = await completedRecord(harness, created.instanceId);
    expect(record.steps.cutAccess?.status).to.equal("done");
    expect(record.facts.instance?.asFound).to.deep.equal({ httpEndpoint: "enabled" });
    expect((record.facts.problems ?? []).filter((line) => line.includes("as found not read"))).to.have.length(
      3,
    );
  });

  it("answers already-responding for an instance under response", async () => {
    const created = instance();
    const first = await respond(request(created.instanceId));
    expect(first.outcome).to.equal("contained");
    const second = await respond(request(created.instanceId));
    expect(second.outcome).to.equal("already-responding");
    expect((second as { incidentId: string }).incidentId).to.equal(
      (first as { incidentId: string }).incidentId,
    );
    await harness.settle();
  });

  it("honours the exclusion tag: rejected before any change, nothing claimed", async () => {
    const created = instance({ "ir:exclude": "true" });
    const before = harness.sim.calls.length;

    const outcome = await respond(request(created.instanceId));

    expect(outcome).to.include({ outcome: "rejected", reason: "excluded-by-tag" });
    expect(changesSince(before)).to.deep.equal([]);
    expect(await harness.record(created.instanceId)).to.equal(undefined);
  });

  it("responds despite the exclusion tag with overrideExclusion, and records it", async () => {
    const { world } = harness;
    const created = instance({ "ir:exclude": "true" });

    const outcome = await respond(request(created.instanceId, { overrideExclusion: true }));

    expect(outcome.outcome, JSON.stringify(outcome)).to.equal("contained");
    await harness.settle();
    expectIsolated(harness, created.instanceId, world.isolationGroup);
    const record = await completedRecord(harness, created.instanceId);
    expect(record.trigger?.overrideExclusion).to.equal(true);
  });

  it("refuses an instance EC2 does not know: instance-gone, nothing changed", async () => {
    const before = harness.sim.calls.length;
    const outcome = await respond(request("i-0123456789abcdef0"));
    expect(outcome).to.include({ outcome: "rejected", reason: "instance-gone" });
    expect(changesSince(before)).to.deep.equal([]);
  });

  it("refuses the responder's own instances", async () => {
    const created = instance({ "ir:responder-made": "forensic" });
    const outcome = await respond(request(created.instanceId, { overrideExclusion: true }));
    expect(outcome).to.include({ outcome: "rejected", reason: "responder-made-instance" });
  });

  describe("malformed and hostile requests: rejected whole, no AWS call", () => {
    const valid = { instanceId: "i-0123456789abcdef0", reason: "suspected", requestedBy: CALLER };
    const deep: Record<string, unknown> = {};
    let node = deep;
    for (let depth = 0; depth < 100; depth += 1) node = node.next = {};
    const rows: [string, unknown, string][] = [
      ["not an object", { "ir:respond": "i-0123456789abcdef0" }, "malformed-request"],
      ["an array", { "ir:respond": [valid] }, "malformed-request"],
      ["no instance id", { "ir:respond": { ...valid, instanceId: undefined } }, "malformed-request"],
      [
        "an upper-case id",
        { "ir:respond": { ...valid, instanceId: "i-0123456789ABCDEF0" } },
        "malformed-request",
      ],
      [
        "an id with a space",
        { "ir:respond": { ...valid, instanceId: "i-0123456789abcdef0 " } },
        "malformed-request",
      ],
      [
        "an id of another kind",
        { "ir:respond": { ...valid, instanceId: "eni-0123456789abcdef0" } },
        "malformed-request",
      ],
      ["a numeric id", { "ir:respond": { ...valid, instanceId: 12345678 } }, "malformed-request"],
      ["a blank reason", { "ir:respond": { ...valid, reason: "   " } }, "malformed-request"],
      ["no reason", { "ir:respond": { ...valid, reason: undefined } }, "malformed-request"],
      [
        "a reason over the limit",
        { "ir:respond": { ...valid, reason: "x".repeat(REASON_LIMIT + 1) } },
        "malformed-request",
      ],
      [
        "a requester that is not an ARN",
        { "ir:respond": { ...valid, requestedBy: "alice" } },
        "malformed-request",
      ],
      [
        "a requester ARN of another service",
        { "ir:respond": { ...valid, requestedBy: "arn:aws:s3:::bucket/alice" } },
        "malformed-request",
      ],
      [
        "an override that is not a boolean",
        { "ir:respond": { ...valid, overrideExclusion: "yes" } },
        "malformed-request",
      ],
      ["an unknown field", { "ir:respond": { ...valid, dryRun: true } }, "malformed-request"],
      ["a second top-level key", { "ir:respond": valid, extra: 1 }, "malformed-request"],
      ["nested 100 deep", { "ir:respond": { ...valid, reason: deep } }, "malformed-event"],
    ];
    for (const [what, payload, reason] of rows) {
      it(what, async () => {
        const before = harness.sim.calls.length;
        const outcome = await respond(payload);
        expect(outcome, JSON.stringify(outcome).slice(0, 300)).to.include({ outcome: "rejected", reason });
        expect((outcome as { detail: string }).detail.length).to.be.below(400);
        expect(harness.sim.calls.length, "no AWS call").to.equal(before);
      });
    }
  });
});
