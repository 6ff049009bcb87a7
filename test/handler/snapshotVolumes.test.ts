// Snapshots are requested at most once per volume per incident. CreateSnapshots has no client token: when its
// answer is lost after EC2 made the snapshots, the response must find and adopt them, not take a second set.
// The pure decisions first, then the whole response against the simulator behind a response-losing proxy.
import { expect } from "chai";

import type { Snapshot } from "@aws-sdk/client-ec2";

import type { VolumeFacts } from "../../handler/incidentRecord";
import {
  createSnapshotsRequest,
  lockRequest,
  planSnapshots,
  snapshotTagPlan,
} from "../../handler/steps/snapshotVolumes";
import { ResponseLosingProxy } from "../reliability/support/responseLosingProxy";
import { callsNaming, completedRecord, expectNothingDestroyed } from "./assertions";
import { startHarness, type Harness } from "../../testkit/harness";

const ROOT: VolumeFacts = { volumeId: "vol-root", deviceName: "/dev/xvda", deleteOnTermination: false };
const DATA: VolumeFacts = { volumeId: "vol-data", deviceName: "/dev/sdf", deleteOnTermination: false };
const LOGS: VolumeFacts = { volumeId: "vol-logs", deviceName: "/dev/sdg", deleteOnTermination: false };

const snapshot = (volumeId: string, snapshotId: string, startedAt: number, state = "pending"): Snapshot =>
  ({ VolumeId: volumeId, SnapshotId: snapshotId, StartTime: new Date(startedAt), State: state }) as Snapshot;

describe("snapshotAsFound and snapshotVolumes: at most one snapshot per volume per incident and set", function () {
  this.timeout(90_000);

  describe("decisions", () => {
    const ours = [
      { Key: "ir:incident", Value: "inc-1" },
      { Key: "ir:managed-by", Value: "ec2-incident-response" },
      { Key: "Name", Value: "evidence i-1" },
    ];

    it("snapshot tags: our Name gives way to a volume's; an incident key on a volume, too many tags or unknown tags: not copied", () => {
      expect(snapshotTagPlan(ours, [["team"], []])).to.deep.equal({ tags: ours, copyTagsFromSource: true });
      expect(snapshotTagPlan(ours, [["Name", "team"], []])).to.deep.equal({
        tags: ours.slice(0, 2),
        copyTagsFromSource: true,
      });
      expect(snapshotTagPlan(ours, [["ir:incident"]])).to.deep.equal({
        tags: ours,
        copyTagsFromSource: false,
      });
      const fifty = Array.from({ length: 48 }, (_, index) => `k${index}`);
      expect(snapshotTagPlan(ours, [fifty]).copyTagsFromSource).to.equal(false);
      expect(snapshotTagPlan(ours, undefined)).to.deep.equal({ tags: ours, copyTagsFromSource: false });
    });

    it("locks snapshots only when configured", () => {
      expect(lockRequest("snap-1", { snapshotLock: "none", snapshotLockDays: 30 })).to.equal(undefined);
      expect(lockRequest("snap-1", { snapshotLock: "compliance", snapshotLockDays: 7 })).to.deep.equal({
        SnapshotId: "snap-1",
        LockMode: "compliance",
        LockDuration: 7,
      });
    });

    it("adopts the earliest usable snapshot of each volume and asks only for the others", () => {
      const plan = planSnapshots(
        [ROOT, DATA, LOGS],
        [
          snapshot("vol-data", "snap-late", 2_000),
          snapshot("vol-data", "snap-early", 1_000),
          snapshot("vol-root", "snap-failed", 500, "error"),
          snapshot("vol-other", "snap-other", 100),
        ],
      );
      expect(plan.adopted).to.deep.equal([{ volumeId: "vol-data", snapshotId: "snap-early" }]);
      expect(plan.missing.map((volume) => volume.volumeId)).to.deep.equal(["vol-root", "vol-logs"]);
    });

    it("asks for every volume in one call when none has a snapshot", () => {
      const request = createSnapshotsRequest(
        {
          incidentId: "inc-1",
          instanceId: "i-1",
          findingType: "Backdoor:EC2/C&CActivity.B",
          set: "as-found",
        },
        {
          rootDeviceName: "/dev/xvda",
          volumes: [ROOT, DATA],
        },
        [ROOT, DATA],
      );
      expect(request.InstanceSpecification).to.deep.equal({ InstanceId: "i-1", ExcludeBootVolume: false });
      expect(request.TagSpecifications?.[0]?.Tags).to.deep.include({ Key: "ir:incident", Value: "inc-1" });
      // The set is a tag from creation: a retry of one set never adopts the other's snapshots.
      expect(request.TagSpecifications?.[0]?.Tags).to.deep.include({
        Key: "ir:evidence-set",
        Value: "as-found",
      });
      expect(request.Description).to.match(/, as found$/);
    });

    it("excludes volumes that have theirs: the root one through ExcludeBootVolume, data ones by id", () => {
      const request = createSnapshotsRequest(
        { incidentId: "inc-1", instanceId: "i-1", findingType: "t", set: "after-stop" },
        {
          rootDeviceName: "/dev/xvda",
          volumes: [ROOT, DATA, LOGS],
        },
        [LOGS],
      );
      expect(request.InstanceSpecification).to.deep.equal({
        InstanceId: "i-1",
        ExcludeBootVolume: true,
        ExcludeDataVolumeIds: ["vol-data"],
      });
    });
  });

  describe("against the simulator, through a proxy that can lose EC2's answer", () => {
    let proxy: ResponseLosingProxy;
    let harness: Harness;

    const start = async (consistencyDelayMs: number): Promise<void> => {
      proxy = await ResponseLosingProxy.start();
      harness = await startHarness({
        simulator: { consistencyDelayMs },
        settings: { AWS_ENDPOINT_URL: proxy.endpoint },
      });
      proxy.target = harness.sim.endpoint;
    };
    afterEach(async () => {
      expectNothingDestroyed(harness);
      await harness.stop();
      await proxy.stop();
    });

    /** One response to an instance with a root and two data volumes; the expected CreateSnapshots of the as-found set. */
    const respond = async (createSnapshotsCalls: number) => {
      const { sim, world } = harness;
      const created = sim.scenario.instance({
        subnetId: world.subnetA,
        imageId: world.kdumpImage,
        dataVolumes: [{ sizeGiB: 4 }, { sizeGiB: 8 }],
      });

      const outcome = await harness.invoke(sim.scenario.findingFor(created.instanceId, { severity: 8 }));

      expect(outcome.outcome, "completed without Lambda's retry").to.equal("completed");
      const record = await completedRecord(harness, created.instanceId);
      const ofIncident = sim.state
        .snapshots()
        .filter((taken) => taken.tags.get("ir:incident") === record.incidentId);
      const sets = { "as-found": record.facts.asFoundSnapshots, "after-stop": record.facts.snapshots };
      for (const [set, recorded] of Object.entries(sets)) {
        const snapshots = ofIncident.filter((taken) => taken.tags.get("ir:evidence-set") === set);
        for (const volumeId of created.volumeIds)
          expect(
            snapshots.filter((taken) => taken.volumeId === volumeId),
            `${set} snapshots of ${volumeId}`,
          ).to.have.length(1);
        expect(snapshots).to.have.length(created.volumeIds.length);
        expect(
          recorded?.map((snapshot) => snapshot.snapshotId).sort(),
          `the record holds the ${set} snapshots taken`,
        ).to.deep.equal(snapshots.map((taken) => taken.snapshotId).sort());
        // One set, one point in time: crash-consistent across the volumes.
        expect(new Set(snapshots.map((taken) => taken.startTime)).size).to.equal(1);
        for (const taken of snapshots)
          expect(taken.lock, `lock on ${taken.snapshotId}`).to.not.equal(undefined);
      }
      expect(ofIncident).to.have.length(2 * created.volumeIds.length);
      // The faults hit the first request, the as-found set's; the after-stop set takes one more.
      expect(callsNaming(harness, created.instanceId, "CreateSnapshots")).to.have.length(
        createSnapshotsCalls + 1,
      );
      return { created, record };
    };

    it("the answer is lost after EC2 made the snapshots: they are adopted, not taken again", async () => {
      await start(0);
      proxy.loseResponses({ action: "CreateSnapshots", count: 1 });

      const { record } = await respond(1);

      expect(
        proxy.lost.map((lost) => lost.action),
        "the answer was lost",
      ).to.deep.equal(["CreateSnapshots"]);
      expect(record.steps.snapshotAsFound?.detail?.adoptedSnapshots).to.equal(3);
    });

    it("the answer is lost and the new snapshots are not listed yet: the bounded look-again adopts them", async () => {
      // Listed 5 simulated seconds after creation; the look-again spans 5 polls of 2 s.
      await start(5_000);
      proxy.loseResponses({ action: "CreateSnapshots", count: 1 });

      const { record } = await respond(1);

      expect(proxy.lost.map((lost) => lost.action)).to.deep.equal(["CreateSnapshots"]);
      expect(record.steps.snapshotAsFound?.detail?.adoptedSnapshots).to.equal(3);
    });

    it("the request times out before EC2 executed it: none found, asked again once", async () => {
      await start(0);
      harness.sim.faults.add({
        service: "ec2",
        action: "CreateSnapshots",
        count: 1,
        fault: { type: "timeout", holdMs: 100 },
      });

      const { record } = await respond(2);

      expect(record.steps.snapshotAsFound?.detail?.adoptedSnapshots).to.equal(undefined);
    });

    it("throttled: asked again after a pause, one set", async () => {
      await start(0);
      harness.sim.faults.add({
        service: "ec2",
        action: "CreateSnapshots",
        count: 1,
        fault: { type: "throttle" },
      });

      await respond(2);
    });
  });
});
