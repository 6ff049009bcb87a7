// EBS's snapshot-completion event resumes a response resting in waiting-for-snapshots. One that arrives while
// the resting invocation still holds the incident (after the attach step's last look, before the lease is given
// up) finds it held and is dropped: nothing would ever resume the response. The holder must look once more
// after it gives the lease up. The race is made deterministic: the completion event is delivered from inside
// the holder's release, before the lease is actually given up.
import { Logger } from "@aws-lambda-powertools/logger";
import { expect } from "chai";

import type { InvocationOutcome } from "../../handler";
import { createAwsClients } from "../../handler/awsClients";
import type { IncidentRecord } from "../../handler/incidentRecord";
import { IncidentStore } from "../../handler/incidentStore";
import { handleEvent } from "../../handler/invocation";
import { parseSettings } from "../../handler/settings";
import { completedRecord } from "../handler/assertions";
import { FUNCTION_NAME, startHarness, stopDynamo, type Harness } from "../handler/harness";

describe("reliability: a snapshot-completion event that meets a held incident", function () {
  this.timeout(120_000);
  let harness: Harness;

  before(async function () {
    this.timeout(600_000); // the harness synthesizes the responder's policy (a Pulumi mock run) first
    harness = await startHarness();
  });
  after(async () => {
    await harness.stop();
    await stopDynamo();
  });

  it("arriving while the resting invocation still holds the incident, it is not lost: the response completes", async () => {
    const copies = await harness.withSettings({
      ATTACH_SNAPSHOT_COPIES: "true",
      SNAPSHOT_WAIT_SECONDS: String(5 / 200),
    });
    const { sim, world } = copies;
    const created = sim.scenario.instance({
      subnetId: world.subnetA,
      securityGroupIds: [world.appGroup],
      imageId: world.kdumpImage,
      dataVolumes: [{ sizeGiB: 20 }],
    });

    // The holder: the unmodified handler's invocation, with a store whose release first lets the snapshots
    // complete and delivers EBS's event (to the harness's responder, which shares the table), then releases.
    const settings = parseSettings(process.env);
    const aws = createAwsClients(settings.region, () => undefined);
    let completion: InvocationOutcome | undefined;
    class RacingStore extends IncidentStore {
      override async release(record: IncidentRecord, owner: string): Promise<void> {
        if (completion === undefined && record.status === "waiting-for-snapshots") {
          sim.advance(3_600_000);
          const event = sim.scenario.snapshotsCompletedEvent(
            created.instanceId,
            record.facts.snapshots ?? [],
          );
          completion = await copies.invoke(event);
        }
        return super.release(record, owner);
      }
    }
    const store = new RacingStore(aws.documents, settings.incidentTable);
    const logger = new Logger({ serviceName: "race", logLevel: "SILENT" });
    const deadline = Date.now() + 120_000;

    const holder = await handleEvent(
      sim.scenario.findingFor(created.instanceId, { severity: 8 }),
      {
        awsRequestId: "holder-1",
        functionName: FUNCTION_NAME,
        invokedFunctionArn: `arn:aws:lambda:${sim.region}:${sim.accountId}:function:${FUNCTION_NAME}`,
        getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      },
      { settings, aws, logger, store },
    );
    await copies.settle();

    expect(completion, "the completion event met the held incident").to.deep.include({ outcome: "appended" });
    expect(holder.outcome, "the holder saw the snapshots done after its release").to.equal("continued");
    const record = await completedRecord(copies, created.instanceId);
    expect(record.facts.attachments?.map((attachment) => attachment.source)).to.deep.equal(["copy", "copy"]);
  });

  it("still pending after the release: the response rests, and EBS's event resumes it later", async () => {
    const copies = await harness.withSettings({
      ATTACH_SNAPSHOT_COPIES: "true",
      SNAPSHOT_WAIT_SECONDS: String(5 / 200),
    });
    const { sim, world } = copies;
    const created = sim.scenario.instance({
      subnetId: world.subnetA,
      securityGroupIds: [world.appGroup],
      imageId: world.kdumpImage,
      dataVolumes: [{ sizeGiB: 20 }],
    });

    const first = await copies.invoke(sim.scenario.findingFor(created.instanceId, { severity: 8 }));
    await copies.settle();

    expect(first.outcome).to.equal("waiting-for-snapshots");
    const resting = (await copies.record(created.instanceId))!;
    expect(resting.status).to.equal("waiting-for-snapshots");
    sim.advance(3_600_000);
    const resumed = await copies.invoke(
      sim.scenario.snapshotsCompletedEvent(created.instanceId, resting.facts.snapshots ?? []),
    );
    expect(resumed.outcome).to.equal("completed");
  });
});
