// The calls that keep asking while AWS throttles (handler/throttling.ts): the policy itself, the containment's
// live check past the SDK's attempts, and cutAccess's instance-attribute changes giving way to isolation moves.
import { expect } from "chai";

import { throttledAttributePauseMs } from "../../handler/steps/cutAccess/cutAccess";
import { throttledDescribePauseMs } from "../../handler/instanceDescription";
import { askWhileThrottled, attemptVerdict, TRANSIENT_RETRIES } from "../../handler/throttling";
import type { CallRecord } from "../../simulator";
import type { IncidentRecord } from "../../handler/incidentRecord";
import { startHarness, type Harness } from "../../testkit/harness";
import { completedRecord, expectIsolated } from "./assertions";

function awsError(name: string, httpStatusCode: number): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode } });
}

/** An ask that fails with these errors in turn, then answers "ok"; counts its calls. */
function failingThen(errors: Error[]): { ask: () => Promise<string>; calls: () => number } {
  let calls = 0;
  return {
    ask: () => {
      const error = errors[calls];
      calls += 1;
      return error === undefined ? Promise.resolve("ok") : Promise.reject(error);
    },
    calls: () => calls,
  };
}

describe("handler: calls that keep asking while throttled", () => {
  it("attemptVerdict: throttling, transient and final failures", () => {
    expect(attemptVerdict(awsError("RequestLimitExceeded", 503))).to.equal("throttled");
    expect(attemptVerdict(awsError("Throttling", 400))).to.equal("throttled");
    expect(attemptVerdict(awsError("InternalError", 500))).to.equal("transient");
    expect(attemptVerdict(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }))).to.equal(
      "transient",
    );
    expect(attemptVerdict(awsError("UnauthorizedOperation", 403))).to.equal("final");
    expect(attemptVerdict(awsError("DryRunOperation", 412))).to.equal("final");
    expect(attemptVerdict(awsError("InvalidGroup.NotFound", 400))).to.equal("final");
    expect(attemptVerdict("not an error")).to.equal("final");
  });

  it("askWhileThrottled: asks again while throttled, past the SDK's ten attempts", async () => {
    const throttled = Array.from({ length: 25 }, () => awsError("RequestLimitExceeded", 503));
    const call = failingThen(throttled);
    expect(await askWhileThrottled(call.ask, 60_000, () => 1)).to.equal("ok");
    expect(call.calls()).to.equal(26);
  });

  it("askWhileThrottled: a few transient failures, then the last one propagates", async () => {
    const transient = Array.from({ length: TRANSIENT_RETRIES + 1 }, () => awsError("InternalError", 500));
    const call = failingThen(transient);
    const failure = await askWhileThrottled(call.ask, 60_000, () => 1).catch((error: unknown) => error);
    expect((failure as Error).name).to.equal("InternalError");
    expect(call.calls()).to.equal(TRANSIENT_RETRIES + 1);
    const recovering = failingThen(transient.slice(1));
    expect(await askWhileThrottled(recovering.ask, 60_000, () => 1)).to.equal("ok");
  });

  it("askWhileThrottled: anything else propagates at once; throttling past the window propagates", async () => {
    const refused = failingThen([awsError("UnauthorizedOperation", 403)]);
    const failure = await askWhileThrottled(refused.ask, 60_000, () => 1).catch((error: unknown) => error);
    expect((failure as Error).name).to.equal("UnauthorizedOperation");
    expect(refused.calls()).to.equal(1);
    const endless = failingThen(Array.from({ length: 1000 }, () => awsError("RequestLimitExceeded", 503)));
    const late = await askWhileThrottled(endless.ask, 30, () => 5).catch((error: unknown) => error);
    expect((late as Error).name).to.equal("RequestLimitExceeded");
    expect(endless.calls()).to.be.within(2, 20);
  });

  it("the pauses: the containment's describe 0.25-0.75 s; an attribute change 15-45 poll intervals", () => {
    expect(throttledDescribePauseMs(0)).to.equal(250);
    expect(throttledDescribePauseMs(7)).to.be.at.most(749);
    for (let index = 0; index < 100; index += 1) expect(throttledDescribePauseMs()).to.be.within(250, 749);
    expect(throttledAttributePauseMs(2, 0)).to.equal(30_000);
    expect(throttledAttributePauseMs(2, 0.5)).to.equal(60_000);
    expect(throttledAttributePauseMs(2, 7)).to.be.at.most(90_000);
    expect(throttledAttributePauseMs(0.01, 0)).to.equal(150);
  });

  /**
   * One finding answered while EC2 throttles the first `count` calls of `action` (the harness's own, fresh): the
   * response must complete; `check` then reads the record and the calls made since the finding.
   */
  async function throttledResponse(
    action: string,
    count: number,
    check: (harness: Harness, instanceId: string, record: IncidentRecord, calls: CallRecord[]) => void,
  ): Promise<void> {
    const harness = await startHarness();
    try {
      const { sim, world } = harness;
      const { instanceId } = sim.scenario.instance({ subnetId: world.subnetA, imageId: world.kdumpImage });
      const from = sim.calls.length;
      sim.faults.add({ service: "ec2", action, count, fault: { type: "throttle" } });
      const outcome = await harness.invoke(sim.scenario.findingFor(instanceId, { severity: 8 }));
      sim.faults.clear();
      expect(outcome.outcome).to.equal("completed");
      expectIsolated(harness, instanceId, world.isolationGroup);
      check(harness, instanceId, await completedRecord(harness, instanceId), sim.calls.slice(from));
    } finally {
      await harness.stop();
    }
  }

  it("the live check keeps asking past the SDK's attempts, by filter (the larger bucket): the instance is contained", () =>
    throttledResponse("DescribeInstances", 12, (_harness, instanceId, _record, calls) => {
      const describes = calls
        .filter((call) => call.action === "DescribeInstances")
        .filter((call) => JSON.stringify(call.params).includes(instanceId));
      expect(describes.filter((call) => call.errorCode === "RequestLimitExceeded")).to.have.length(12);
      for (const call of describes) {
        expect(call.params.InstanceIds, "by filter, not by id").to.equal(undefined);
        expect(call.params.Filters).to.deep.equal([{ Name: "instance-id", Values: [instanceId] }]);
      }
    }));

  // Pauses of 15-45 poll intervals, asked again while less than the window of 45 has passed: three or four asks a
  // pass. Ten throttled answers outlast two passes; the fourth at the latest gets through (the state machine's
  // TaskFailed retrier allows five).
  it("cutAccess's attribute changes throttled past their window: the step fails, the state machine asks again, the response completes", () =>
    throttledResponse("ModifyInstanceAttribute", 10, (harness, instanceId, record) => {
      expect(record.steps.cutAccess?.status).to.equal("done");
      expect(record.steps.cutAccess?.attempts).to.be.at.least(3);
      expect(harness.sim.state.instance(instanceId)!.disableApiTermination).to.equal(true);
      expect(record.facts.shutdownBehaviorStop).to.equal(true);
    }));

  // One throttled answer: a second would let the pause run past the window at times (the step then fails and the
  // state machine asks again at once, as the test above shows).
  it("cutAccess's attribute changes go one at a time and, throttled, ask again only after a long pause", () =>
    throttledResponse("ModifyInstanceAttribute", 1, (harness, instanceId, record, calls) => {
      expect(record.steps.cutAccess?.status).to.equal("done");
      expect(harness.sim.state.instance(instanceId)!.disableApiTermination).to.equal(true);
      const changes = calls.filter(
        (call) => call.action === "ModifyInstanceAttribute" && call.params.Groups === undefined,
      );
      expect(changes.map((call) => call.errorCode ?? "ok")).to.deep.equal([
        "RequestLimitExceeded",
        "ok",
        "ok",
        "ok",
      ]);
      // Simulated seconds (the harness's default poll interval is 2 simulated seconds): 15 intervals at least.
      for (const [index, call] of changes.entries()) {
        const next = changes[index + 1];
        if (next === undefined) break;
        expect(next.simStart, "one at a time").to.be.at.least(call.simEnd);
        if (call.errorCode !== undefined) expect(next.simStart - call.simEnd).to.be.at.least(29_000);
      }
    }));
});
