// The untrack hop makes the isolation cut tracked connections, but for the moment an ENI sits in the untrack group
// it is MORE open than before the response (all traffic, both ways, from and to anywhere). That moment must stay
// one API call long, whatever fails. Measured in simulated time from the simulator's call log.
import { expect } from "chai";

import { DEFAULT_DURATIONS, type CallRecord, type StateDurations } from "../../simulator";
import { expectIsolated } from "../handler/assertions";
import { startHarness, stopDynamo, type Harness } from "../../testkit/harness";
import { deliverLikeLambda, LAMBDA_RETRY_DELAYS_MS } from "../../testkit/lambdaDelivery";

/**
 * Simulated ms of each stay of the ENI in the untrack group: from a successful move into it to the next
 * successful change of its groups (ModifyNetworkInterfaceAttribute on the ENI, or ModifyInstanceAttribute Groups
 * on its instance when it is the instance's only interface). Infinite if it never left.
 */
function untrackStaysMs(
  calls: readonly CallRecord[],
  untrackGroup: string,
  networkInterfaceId: string,
  soleInterfaceOf?: string,
): number[] {
  const moves = calls
    .filter(
      (call) =>
        call.status === 200 &&
        Array.isArray(call.params.Groups) &&
        ((call.action === "ModifyNetworkInterfaceAttribute" &&
          call.params.NetworkInterfaceId === networkInterfaceId) ||
          (call.action === "ModifyInstanceAttribute" &&
            soleInterfaceOf !== undefined &&
            call.params.InstanceId === soleInterfaceOf)),
    )
    .sort((a, b) => a.simEnd - b.simEnd);
  return moves.flatMap((call, index) => {
    if (!JSON.stringify(call.params.Groups).includes(untrackGroup)) return [];
    const next = moves[index + 1];
    return [next === undefined ? Infinity : next.simEnd - call.simEnd];
  });
}

describe("reliability: time an ENI spends in the allow-all untrack group", function () {
  this.timeout(60_000);
  let harness: Harness;

  before(async () => {
    // Time scale 10, not more: the stays measured here are a call or two long, and at scale 100 a busy machine's
    // 10 ms of CPU between two calls would already read as a second. One response first, so the SDK's one-time
    // costs in this process do not land between the hops measured below.
    harness = await startHarness({ timeScale: 10 });
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
    const stays = untrackStaysMs(harness.sim.calls, harness.world.untrackGroup, networkInterfaceId);
    expect(stays.length, "went through the untrack group").to.be.greaterThan(0);
    return Math.max(...stays) / 1000;
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
    // group is the refused call plus that one (at this scale 1 ms of CPU is 10 ms), never the retry delay.
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

describe("reliability: the untrack stay in a burst, when ENI moves are throttled", function () {
  this.timeout(180_000);

  // State changes a hundred times shorter than AWS's: only the isolation is measured, and the rest of each
  // response then ends in seconds at time scale 1. Scale 1, because the retry pauses and the SDK's back-off are
  // wall time: at a higher scale each would span that many times more simulated time.
  const shortened = Object.fromEntries(
    Object.entries(DEFAULT_DURATIONS).map(([name, ms]) => [name, Math.round(ms / 100)]),
  ) as unknown as StateDurations;

  after(stopDynamo);

  /** N instances flagged at once, one responder each (concurrent Lambda invocations), all delivered. */
  async function burst(
    harness: Harness,
    count: number,
    extraInterfaces: number,
  ): Promise<{ instanceId: string; networkInterfaceIds: string[] }[]> {
    const { sim, world } = harness;
    const instances = Array.from({ length: count }, () =>
      sim.scenario.instance({
        subnetId: world.subnetA,
        securityGroupIds: [world.appGroup],
        imageId: world.kdumpImage,
        extraNetworkInterfaces: Array.from({ length: extraInterfaces }, () => ({
          subnetId: world.subnetA2,
          securityGroupIds: [world.appGroup],
        })),
      }),
    );
    const containers = await Promise.all(instances.map(() => harness.withSettings({})));
    const outcomes = await Promise.all(
      instances.map((created, index) =>
        containers[index]!.invokeWithRetries(sim.scenario.findingFor(created.instanceId, { severity: 8 })),
      ),
    );
    expect(outcomes.map((result) => result.outcome.outcome)).to.deep.equal(Array(count).fill("completed"));
    for (const created of instances) expectIsolated(harness, created.instanceId, world.isolationGroup);
    return instances;
  }

  it("ENI moves only (two interfaces per instance): every isolation move gets the next token the bucket refills, not a back-off", async () => {
    // 6 instances x 2 ENIs: the 12 untrack moves take the whole bucket of 12, so the 12 isolation moves wait for
    // the refill, 1 per second: the last token comes 12 s after the untrack moves. An isolation move asks again
    // every 100-300 ms (plus one call, 40-60 ms), so the last ENI leaves the untrack group at most about 0.4 s
    // after its token exists (1 s allowed, for CPU). Behind the SDK's back-off (up to 20 s between attempts) the
    // last ENIs stayed several seconds past their token.
    const capacity = 12;
    const refillPerSecond = 1;
    const harness = await startHarness({
      timeScale: 1,
      simulator: {
        durations: shortened,
        throttling: { actions: { ModifyNetworkInterfaceAttribute: { capacity, refillPerSecond } } },
      },
      settings: { POLL_INTERVAL_SECONDS: "0.05" },
    });
    try {
      const instances = await burst(harness, 6, 1);
      const { sim, world } = harness;
      const enis = instances.flatMap((created) => created.networkInterfaceIds);
      expect(enis).to.have.length(capacity);
      expect(
        sim.calls.filter((call) => call.errorCode === "RequestLimitExceeded").length,
        "the isolation moves were throttled",
      ).to.be.greaterThan(capacity);
      expect(
        sim.calls.some(
          (call) => call.action === "ModifyInstanceAttribute" && call.params.Groups !== undefined,
        ),
        "no instance-level move for an instance of several interfaces",
      ).to.equal(false);
      const stays = enis.flatMap((eni) => untrackStaysMs(sim.calls, world.untrackGroup, eni));
      expect(stays, "every ENI went through the untrack group once").to.have.length(capacity);
      const refillMs = (capacity / refillPerSecond) * 1000;
      expect(Math.max(...stays), `longest stay (ms), bucket refill ${refillMs} ms`).to.be.below(
        refillMs + 1000,
      );
    } finally {
      await harness.stop();
    }
  });

  it("one interface per instance: a throttled ENI move gives way to ModifyInstanceAttribute Groups (another bucket)", async () => {
    // 6 instances of one ENI: the 6 untrack moves take the whole ENI-move bucket of 6, refilling 1 token every
    // 2 s (ENI moves alone would keep the last ENI in the untrack group 12 s). ModifyInstanceAttribute draws from
    // the mutating-actions bucket (50 tokens): each ENI leaves after at most two rounds of attempts (one pause of
    // at most 300 ms, while the live description that proves the instance has one interface comes in).
    const harness = await startHarness({
      timeScale: 1,
      simulator: {
        durations: shortened,
        throttling: { actions: { ModifyNetworkInterfaceAttribute: { capacity: 6, refillPerSecond: 0.5 } } },
      },
      settings: { POLL_INTERVAL_SECONDS: "0.05" },
    });
    try {
      const instances = await burst(harness, 6, 0);
      const { sim, world } = harness;
      const byInstance = sim.calls.filter(
        (call) =>
          call.action === "ModifyInstanceAttribute" &&
          call.status === 200 &&
          JSON.stringify(call.params.Groups) === JSON.stringify([world.isolationGroup]),
      );
      expect(byInstance.length, "isolated by ModifyInstanceAttribute Groups").to.be.greaterThan(0);
      const stays = instances.flatMap((created) =>
        untrackStaysMs(sim.calls, world.untrackGroup, created.networkInterfaceIds[0]!, created.instanceId),
      );
      expect(stays).to.have.length(6);
      expect(Math.max(...stays), "longest stay (ms)").to.be.below(1500);
      // Never back into the untrack group after isolation: the last group change of each ENI is the isolation.
      for (const created of instances) {
        expect(sim.state.networkInterface(created.networkInterfaceIds[0]!)!.groupIds).to.deep.equal([
          world.isolationGroup,
        ]);
      }
    } finally {
      await harness.stop();
    }
  });
});
