// The pure decisions of launchForensicInstance and attachEvidenceVolumes (handler/steps/forensicWorkspace.ts), tested without AWS.
import { expect } from "chai";

import {
  allocateDeviceNames,
  copiedSet,
  evidenceSource,
  forensicSubnetFor,
} from "../../handler/steps/forensicWorkspace";

describe("handler: launchForensicInstance and attachEvidenceVolumes", () => {
  describe("device names on the forensic instance", () => {
    it("hands out the recommended EBS range first, skipping used slots and the root slot", () => {
      expect(allocateDeviceNames(["/dev/xvda"], 3)).to.deep.equal(["/dev/sdf", "/dev/sdg", "/dev/sdh"]);
      expect(allocateDeviceNames(["/dev/xvda", "/dev/xvdf", "/dev/sdg"], 2)).to.deep.equal([
        "/dev/sdh",
        "/dev/sdi",
      ]);
    });
    it("treats /dev/sdX and /dev/xvdX (and partitions) as the same slot", () => {
      expect(allocateDeviceNames(["/dev/sda1", "/dev/xvdf1"], 1)).to.deep.equal(["/dev/sdg"]);
    });
    it("never hands out slot a and stops at the end of the range", () => {
      const names = allocateDeviceNames([], 40);
      expect(names).to.have.length(25);
      expect(new Set(names).size).to.equal(25);
      expect(names).to.not.include("/dev/sda");
    });
  });

  describe("the workstation's subnet and the evidence it gets", () => {
    it("the workstation goes to the configured subnet of the volumes' AZ, else the instance's subnet", () => {
      expect(
        forensicSubnetFor(
          "eu-central-1b",
          { "eu-central-1a": "subnet-fa", "eu-central-1b": "subnet-fb" },
          "subnet-x",
        ),
      ).to.equal("subnet-fb");
      expect(forensicSubnetFor("eu-central-1c", { "eu-central-1a": "subnet-fa" }, "subnet-x")).to.equal(
        "subnet-x",
      );
    });
    it("originals when the instance stopped; copies when configured or when it could not be stopped", () => {
      expect(evidenceSource({ stop: { finalState: "stopped" } }, { attachSnapshotCopies: false })).to.equal(
        "original",
      );
      expect(evidenceSource({ stop: { finalState: "stopped" } }, { attachSnapshotCopies: true })).to.equal(
        "copy",
      );
      expect(
        evidenceSource(
          { stop: { finalState: "running", reason: "instance-store" } },
          { attachSnapshotCopies: false },
        ),
      ).to.equal("copy");
    });
    it("copies come from the configured set, or from the other one when that set was not taken", () => {
      const asFound = [{ volumeId: "vol-1", snapshotId: "snap-as-found" }];
      const afterStop = [{ volumeId: "vol-1", snapshotId: "snap-after-stop" }];
      const both = { asFoundSnapshots: asFound, snapshots: afterStop };
      expect(copiedSet(both, { snapshotCopiesFrom: "after-stop" })).to.equal(afterStop);
      expect(copiedSet(both, { snapshotCopiesFrom: "as-found" })).to.equal(asFound);
      expect(copiedSet({ snapshots: afterStop }, { snapshotCopiesFrom: "as-found" })).to.equal(afterStop);
      expect(
        copiedSet({ asFoundSnapshots: [], snapshots: afterStop }, { snapshotCopiesFrom: "as-found" }),
      ).to.equal(afterStop);
      expect(copiedSet({ asFoundSnapshots: asFound }, { snapshotCopiesFrom: "after-stop" })).to.equal(
        asFound,
      );
      expect(copiedSet({}, { snapshotCopiesFrom: "after-stop" })).to.deep.equal([]);
    });
  });
});
