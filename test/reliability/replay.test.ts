// Replays at scale: EventBridge delivers at least once and GuardDuty re-publishes updated findings, so the same
// event can arrive many times at once, and many findings can name one instance. Each arrival runs in its own
// Lambda environment (a responder of its own). Exactly one response must happen; every other arrival is appended.
import { expect } from "chai";

import { callsNaming, expectNothingDestroyed, notificationFor } from "../handler/assertions";
import { startHarness, stopDynamo, type Harness, type ResponseOutcome } from "../../testkit/harness";
import { expectCorrectResponse, instancesOfIncident, isReadOnlyAction } from "./support/invariants";

const REPLAYS = 20;

/** GuardDuty EC2 finding types a compromised instance collects in its first minutes. */
const FINDING_TYPES = [
  "CryptoCurrency:EC2/BitcoinTool.B!DNS",
  "Backdoor:EC2/C&CActivity.B",
  "UnauthorizedAccess:EC2/TorClient",
  "Trojan:EC2/DNSDataExfiltration",
  "Recon:EC2/PortProbeUnprotectedPort",
];

function tally(outcomes: readonly ResponseOutcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const outcome of outcomes) {
    const key = outcome.outcome === "appended" ? `appended (${outcome.why})` : outcome.outcome;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

describe("reliability: replays (one response, the rest appended)", function () {
  this.timeout(120_000);
  let harness: Harness;

  before(async () => (harness = await startHarness()));
  after(async () => {
    await harness.stop();
    await stopDynamo();
  });

  function respondableInstance() {
    const { sim, world } = harness;
    return sim.scenario.instance({
      subnetId: world.subnetA,
      imageId: world.kdumpImage,
      instanceProfile: world.appProfile.arn,
      dataVolumes: [{ sizeGiB: 4 }, { sizeGiB: 4 }],
    });
  }

  /** One fresh responder per arrival: concurrent Lambda invocations never share an environment. */
  async function environments(count: number): Promise<Harness[]> {
    return Promise.all(Array.from({ length: count }, () => harness.withSettings({})));
  }

  function expectOneResponse(created: ReturnType<typeof respondableInstance>, incidentId: string): void {
    for (const eniId of created.networkInterfaceIds)
      expect(
        callsNaming(harness, eniId, "ModifyNetworkInterfaceAttribute"),
        `moves of ${eniId}`,
      ).to.have.length(2);
    expect(callsNaming(harness, created.instanceId, "SendDiagnosticInterrupt"), "NMIs").to.have.length(1);
    expect(
      callsNaming(harness, created.instanceId, "CreateSnapshots"),
      "as found, after the stop",
    ).to.have.length(2);
    expect(instancesOfIncident(harness, incidentId, "forensic"), "forensic instances").to.have.length(1);
    expect(instancesOfIncident(harness, incidentId, "replacement").length, "replacements").to.be.at.most(1);
    expect(notificationFor(harness, incidentId), "notifications").to.have.length(1);
  }

  it(`the same event ${REPLAYS} times at once: one response, ${REPLAYS - 1} appended, one finding recorded`, async () => {
    const { sim, world } = harness;
    const created = respondableInstance();
    const event = sim.scenario.findingFor(created.instanceId, { severity: 8 });
    const arrivals = await environments(REPLAYS);

    const outcomes = await Promise.all(arrivals.map((arrival) => arrival.invoke(structuredClone(event))));

    expect(tally(outcomes)).to.deep.equal({ completed: 1, "appended (running)": REPLAYS - 1 });
    const record = await expectCorrectResponse(harness, created, {
      quarantineProfileArn: world.quarantineProfileArn,
    });
    expect(Object.keys(record.findings), "a redelivery is not a new finding").to.have.length(1);
    expectOneResponse(created, record.incidentId);
  });

  it(`${REPLAYS} different findings for one instance at once: one response, all ${REPLAYS} findings on the incident`, async () => {
    const { sim, world } = harness;
    const created = respondableInstance();
    const events = Array.from({ length: REPLAYS }, (_, index) =>
      sim.scenario.findingFor(created.instanceId, {
        severity: 7 + (index % 4),
        type: FINDING_TYPES[index % FINDING_TYPES.length],
        findingId: `replay-finding-${String(index).padStart(2, "0")}`,
      }),
    );
    const arrivals = await environments(REPLAYS);

    const outcomes = await Promise.all(arrivals.map((arrival, index) => arrival.invoke(events[index])));

    expect(tally(outcomes)).to.deep.equal({ completed: 1, "appended (running)": REPLAYS - 1 });
    const record = await expectCorrectResponse(harness, created, {
      quarantineProfileArn: world.quarantineProfileArn,
    });
    expect(
      Object.values(record.findings)
        .map((finding) => finding.findingId)
        .sort(),
    ).to.deep.equal(events.map((event) => event.detail.id).sort());
    expectOneResponse(created, record.incidentId);
  });

  it(`after the response, ${REPLAYS} more arrivals at once change nothing in AWS and are all appended`, async () => {
    const { sim, world } = harness;
    const created = respondableInstance();
    const first = sim.scenario.findingFor(created.instanceId, { severity: 8, findingId: "replay-late-0" });
    expect((await harness.invoke(first)).outcome).to.equal("completed");
    const before = sim.calls.length;
    const arrivals = await environments(REPLAYS);

    const outcomes = await Promise.all(
      arrivals.map((arrival, index) =>
        arrival.invoke(
          index % 2 === 0
            ? structuredClone(first)
            : sim.scenario.findingFor(created.instanceId, { severity: 9, findingId: `replay-late-${index}` }),
        ),
      ),
    );

    expect(tally(outcomes)).to.deep.equal({ "appended (completed)": REPLAYS });
    // The incident table is the responder's own bookkeeping (the appended findings), not a change to the account.
    const mutations = sim.calls
      .slice(before)
      .filter((call) => call.service !== "dynamodb" && !isReadOnlyAction(call.action));
    expect(
      mutations.map((call) => call.action),
      "AWS changes after completion",
    ).to.deep.equal([]);
    const record = await expectCorrectResponse(harness, created, {
      quarantineProfileArn: world.quarantineProfileArn,
    });
    expect(Object.keys(record.findings)).to.have.length(1 + REPLAYS / 2);
    expectOneResponse(created, record.incidentId);
    expectNothingDestroyed(harness);
  });
});
