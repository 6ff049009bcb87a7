// The forensic workstation's evidence guard: attached volumes read-only, mounted only read-only, never automounted.
import { expect } from "chai";
import { EVIDENCE_MOUNT, runFunction, runScript, WORKSTATION_SETUP } from "./scriptRunner";

describe("forensic workstation evidence guard", () => {
  describe("ir-evidence-mount refuses anything read-write", () => {
    const attempts: string[][] = [
      ["/dev/nvme1n1", "/mnt/evidence", "rw"],
      ["-o", "rw", "/dev/nvme1n1", "/mnt/evidence"],
      ["-o", "remount,rw", "/dev/nvme1n1", "/mnt/evidence"],
      ["--rw", "/dev/nvme1n1", "/mnt/evidence"],
      ["-w", "/dev/nvme1n1", "/mnt/evidence"],
      ["--read-write", "/dev/nvme1n1", "/mnt/evidence"],
    ];
    for (const args of attempts) {
      it(`refuses: ir-evidence-mount ${args.join(" ")}`, () => {
        const result = runScript(EVIDENCE_MOUNT, args);
        expect(result.status).to.equal(2);
        expect(result.stderr).to.match(/refusing .*read-only only/);
      });
    }

    it("refuses options it does not know instead of passing them to mount", () => {
      const result = runScript(EVIDENCE_MOUNT, ["-o", "ro,exec", "/dev/nvme1n1", "/mnt/evidence"]);
      expect(result.status).to.equal(2);
      expect(result.stderr).to.match(/unknown option '-o'/);
    });
  });

  describe("mount options never write to the evidence nor run code from it", () => {
    const cases: [string, string[]][] = [
      ["ext4", ["ro", "noexec", "nosuid", "nodev", "noload"]],
      ["ext3", ["ro", "noexec", "nosuid", "nodev", "noload"]],
      ["xfs", ["ro", "noexec", "nosuid", "nodev", "norecovery", "nouuid"]],
      ["ntfs", ["ro", "noexec", "nosuid", "nodev"]],
      ["vfat", ["ro", "noexec", "nosuid", "nodev"]],
    ];
    for (const [fstype, options] of cases) {
      it(`${fstype}: ${options.join(",")}`, () => {
        const result = runScript(EVIDENCE_MOUNT, ["--options", fstype]);
        expect(result.status, result.stderr).to.equal(0);
        expect(result.stdout.trim().split(",")).to.have.members(options);
      });
    }

    it("refuses a filesystem it has no safe options for", () => {
      expect(runScript(EVIDENCE_MOUNT, ["--options", "zfs"]).status).to.equal(2);
    });
  });

  describe("which attached devices become read-only (should_protect)", () => {
    const table: [device: string, rootDisk: string, label: string, mounted: 0 | 1, protect: boolean][] = [
      ["nvme1n1", "nvme0n1", "", 0, true],
      ["nvme1n1p1", "nvme0n1", "cloudimg-rootfs", 0, true], // a victim's root partition is evidence
      ["xvdf", "xvda", "", 0, true],
      ["nvme0n1", "nvme0n1", "", 0, false],
      ["nvme0n1p1", "nvme0n1", "", 1, false],
      ["xvda1", "xvda", "", 1, false],
      ["nvme2n1", "nvme0n1", "", 1, false], // already mounted: the workstation's own
      ["nvme3n1", "nvme0n1", "ir-scratch-case42", 0, false],
      ["nvme1n1", "", "", 0, true], // root disk unknown: protect rather than guess
    ];
    for (const [device, rootDisk, label, mounted, protect] of table) {
      it(`${device} (root ${rootDisk || "?"}, label '${label}', mounted ${mounted}) -> ${protect ? "read-only" : "left alone"}`, () => {
        const result = runFunction(
          EVIDENCE_MOUNT,
          'should_protect "$DEVICE" "$ROOT_DISK" "$LABEL" "$MOUNTED"',
          {
            DEVICE: device,
            ROOT_DISK: rootDisk,
            LABEL: label,
            MOUNTED: String(mounted),
          },
        );
        expect(result.status === 0).to.equal(protect);
      });
    }
  });

  describe("udev rule written by forensic-workstation-setup", () => {
    let rule: string;
    before(() => {
      rule = runFunction(WORKSTATION_SETUP, "render_udev_rule").stdout;
    });

    it("protects every added block device through ir-evidence-mount --protect", () => {
      expect(rule).to.match(/ACTION=="add\|change", SUBSYSTEM=="block"/);
      expect(rule).to.include('RUN+="/usr/local/sbin/ir-evidence-mount --protect $devnode"');
    });

    it("tells udisks not to automount evidence", () => {
      expect(rule).to.include('ENV{UDISKS_IGNORE}="1"');
      expect(rule).to.include('ENV{UDISKS_AUTO}="0"');
    });

    it("keeps LVM from auto-activating volume groups found on evidence", () => {
      const lvm = runFunction(WORKSTATION_SETUP, "render_lvm_override").stdout;
      expect(lvm).to.match(/auto_activation_volume_list = \[\]/);
      expect(lvm).to.match(/event_activation = 0/);
    });
  });
});
