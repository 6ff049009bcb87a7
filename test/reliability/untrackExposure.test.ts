// The untrack hop makes the isolation cut tracked connections, but for the moment an ENI sits in the untrack group
// it is MORE open than before the response (all traffic, both ways, from and to anywhere). That moment must stay
// one API call long, whatever fails. Measured in simulated time from the simulator's call log.
import { expect } from "chai";

import { startHarness, stopDynamo, type Harness } from "../handler/harness";
import { deliverLikeLambda, LAMBDA_RETRY_DELAYS_MS } from "./support/lambdaDelivery";

describe("reliability: time an ENI spends in the allow-all untrack group", function () {
  this.timeout(60_000);
  let harness: Harness;

  before(async () => {
    harness = await startHarness({ timeScale: 100 });
    // One response first, so the SDK's one-time costs in this process (at this scale 1 ms of CPU is 0.1 s) do not
    // land between the hops measured below.
    const { sim, world } = harness;
    const warmUp = sim.scenario.instance({ subnetId: world.subnetA, imageId: world.kdumpImage });
    await deliverLikeLambda(harness, sim.scenario.findingFor(warmUp.instanceId, { severity: 8 }));
  });
  after(async () => {
    await harness.stop();
    await stopDynamo();
  });

  /**
   * Simulated seconds of the longest stay of the ENI in the untrack group: from a successful move into it to the
   * next successful move of the ENI (into the isolation group, or back out). Infinite if it never left.
   */
  function secondsInUntrack(networkInterfaceId: string): number {
    const { sim, world } = harness;
    const moves = sim.calls
      .filter(
        (call) =>
          call.action === "ModifyNetworkInterfaceAttribute" &&
          call.status === 200 &&
          call.params.NetworkInterfaceId === networkInterfaceId,
      )
      .sort((a, b) => a.simEnd - b.simEnd);
    expect(
      moves.some((call) => JSON.stringify(call.params.Groups).includes(world.untrackGroup)),
      "went through the untrack group",
    ).to.equal(true);
    let longest = 0;
    moves.forEach((call, index) => {
      if (!JSON.stringify(call.params.Groups).includes(world.untrackGroup)) return;
      const next = moves[index + 1];
      longest = Math.max(longest, next === undefined ? Infinity : next.simEnd - call.simEnd);
    });
    return longest / 1000;
  }

  it("without faults: one call long", async () => {
    const { sim, world } = harness;
    const created = sim.scenario.instance({ subnetId: world.subnetA, imageId: world.kdumpImage });

    await deliverLikeLambda(harness, sim.scenario.findingFor(created.instanceId, { severity: 8 }));

    expect(secondsInUntrack(created.networkInterfaceIds[0]!)).to.be.below(1);
  });

  it("when the move into the isolation group fails for good, the ENI leaves the allow-all group at once (back to its original groups) and Lambda's retry isolates it", async () => {
    const { sim, world } = harness;
    const created = sim.scenario.instance({
      subnetId: world.subnetA,
      securityGroupIds: [world.appGroup],
      imageId: world.kdumpImage,
    });
    const eniId = created.networkInterfaceIds[0]!;
    sim.faults.add({
      service: "ec2",
      action: "ModifyNetworkInterfaceAttribute",
      skip: 1,
      count: 1,
      fault: { type: "error", code: "UnauthorizedOperation", httpStatus: 403 },
    });

    const delivery = await deliverLikeLambda(
      harness,
      sim.scenario.findingFor(created.instanceId, { severity: 8 }),
    );
    sim.faults.clear();

    expect(delivery.attempts, "Lambda's retry finished the isolation").to.equal(2);
    const calls = sim.calls.filter(
      (call) => call.action === "ModifyNetworkInterfaceAttribute" && call.params.NetworkInterfaceId === eniId,
    );
    expect(
      calls.slice(0, 3).map((call) => ({ groups: call.params.Groups, status: call.status })),
      "untrack, refused isolation, back to the original groups",
    ).to.deep.equal([
      { groups: [world.untrackGroup], status: 200 },
      { groups: [world.isolationGroup], status: 403 },
      { groups: [world.appGroup], status: 200 },
    ]);
    const [, refused, movedBack] = calls as [unknown, (typeof calls)[0], (typeof calls)[0]];
    // The move back is the very next call, sent as soon as the refusal is in: the ENI's stay in the allow-all
    // group is the refused call plus that one (at this scale 1 ms of CPU is 0.1 s), never the retry delay.
    expect((movedBack.simStart - refused.simEnd) / 1000, "move back sent at once").to.be.below(1);
    expect(secondsInUntrack(eniId)).to.be.below(2);
    expect(secondsInUntrack(eniId)).to.be.below(LAMBDA_RETRY_DELAYS_MS[0]! / 1000 / 10);
    expect(sim.state.networkInterface(eniId)!.groupIds, "isolated in the end").to.deep.equal([
      world.isolationGroup,
    ]);
    const record = await harness.record(created.instanceId);
    expect(record?.facts.untrackExits?.map((exit) => exit.networkInterfaceId)).to.deep.equal([eniId]);
  });
});
