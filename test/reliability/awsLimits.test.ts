// Instances AWS allows but the response must still handle end to end: tag values with any UTF-8 and instances at
// EC2's tag limit. Each test delivers the finding as Lambda does (two retries) and reads the final state.
import { expect } from "chai";

import { callsNaming, completedRecord, expectForensicWorkspace } from "../handler/assertions";
import { startHarness, stopDynamo, type Harness } from "../../testkit/harness";
import { snapshotsOfIncident } from "./support/invariants";
import { deliverLikeLambda } from "../../testkit/lambdaDelivery";

/** EC2's documented limit of user tags per resource. */
const EC2_TAGS_PER_RESOURCE = 50;

describe("reliability: AWS limits and instance data the response must survive", function () {
  this.timeout(60_000);
  let harness: Harness;

  before(async () => (harness = await startHarness()));
  after(async () => {
    await harness.stop();
    await stopDynamo();
  });

  function instanceWithTags(tags: Record<string, string>) {
    const { sim, world } = harness;
    return sim.scenario.instance({
      subnetId: world.subnetA,
      imageId: world.kdumpImage,
      instanceProfile: world.appProfile.arn,
      dataVolumes: [{ sizeGiB: 4 }],
      tags,
    });
  }

  it("a Name tag with a line break: the response completes and the notification goes out with a valid subject", async () => {
    const { sim, world } = harness;
    const name = "web-1\nowner: payments";
    const created = instanceWithTags({ Name: name });

    const delivery = await deliverLikeLambda(
      harness,
      sim.scenario.findingFor(created.instanceId, { severity: 8 }),
    );

    expect(delivery.deadLettered, delivery.errors.join("; ")).to.equal(false);
    expect(delivery.attempts, "one attempt").to.equal(1);
    expect(sim.state.networkInterface(created.networkInterfaceIds[0]!)!.groupIds).to.deep.equal([
      world.isolationGroup,
    ]);
    const record = await harness.record(created.instanceId);
    expect(record!.status).to.equal("completed");
    expect(snapshotsOfIncident(harness, record!.incidentId), "two sets").to.have.length(
      2 * created.volumeIds.length,
    );
    const sent = sim.state
      .messages(world.topicArn)
      .filter((message) => message.message.includes(record!.incidentId));
    expect(sent, "the isolation notice and the report's notification").to.have.length(2);
    for (const message of sent) {
      expect(message.subject).to.match(/^[\x20-\x7e]{1,100}$/);
      expect(message.subject).to.include("web-1 owner: payments");
      expect(message.message, "the message carries the Name as it is").to.include(name);
    }
  });

  it(`an instance with ${EC2_TAGS_PER_RESOURCE} tags cannot take the incident tag: recorded, and the response goes on (stop, snapshots, workstation, replacement within the tag limit, report)`, async () => {
    const { sim, world } = harness;
    const tags = Object.fromEntries(
      Array.from({ length: EC2_TAGS_PER_RESOURCE }, (_, index) => [`team:label-${index}`, "x"]),
    );
    const created = instanceWithTags(tags);

    const delivery = await deliverLikeLambda(
      harness,
      sim.scenario.findingFor(created.instanceId, { severity: 8 }),
    );

    expect(delivery.deadLettered, delivery.errors.join("; ")).to.equal(false);
    expect(delivery.attempts, "one attempt").to.equal(1);
    const record = await completedRecord(harness, created.instanceId);
    expect(sim.state.networkInterface(created.networkInterfaceIds[0]!)!.groupIds).to.deep.equal([
      world.isolationGroup,
    ]);
    // CreateTags answered TagLimitExceeded: recorded as a problem, not a reason to stop.
    expect(sim.state.instance(created.instanceId)!.tags.has("ir:incident")).to.equal(false);
    expect(record.steps.cutAccess?.status).to.equal("done");
    expect(record.facts.incidentTag?.problem).to.include("TagLimitExceeded");
    expect(sim.state.instance(created.instanceId)!.state).to.equal("stopped");
    expect(snapshotsOfIncident(harness, record.incidentId), "two sets").to.have.length(
      2 * created.volumeIds.length,
    );
    expectForensicWorkspace(harness, record, created.volumeIds.length);
    // The replacement keeps the instance's tags only as far as EC2's limit allows beside the responder's own.
    const launch = callsNaming(harness, record.incidentId, "RunInstances").find((call) =>
      JSON.stringify(call.params).includes("replacement"),
    );
    const requested = JSON.stringify(launch?.params ?? {}).match(/"Key":"(?!aws:)/g) ?? [];
    expect(requested.length, "user tags asked for: 47 of its own + 3 of the responder's").to.equal(
      EC2_TAGS_PER_RESOURCE,
    );
    // The report's notification (the isolation notice went out before cutAccess met the limit).
    const message = sim.state
      .messages(world.topicArn)
      .filter((candidate) => candidate.message.includes(record.incidentId))
      .at(-1);
    expect(message?.message, "the notification names the problem").to.include("TagLimitExceeded");
  });
});
