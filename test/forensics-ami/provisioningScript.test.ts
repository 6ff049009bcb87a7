// The real forensics-ami/scripts/ir-kdump, run with bash: the rules it applies and the files it writes.
// Over 400 lines: it covers one script whole (rules, files per distribution, check, capture entry point).
import { expect } from "chai";
import { existsSync, readFileSync, rmSync, writeFileSync } from "fs";
import { join } from "path";
import { IR_KDUMP, runFunction, runScript, tempDir, treeDigest, writeTree } from "./scriptRunner";

const OS_RELEASE = {
  al2023: 'NAME="Amazon Linux"\nVERSION="2023"\nID="amzn"\nID_LIKE="fedora"\nVERSION_ID="2023"\n',
  debian:
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n',
  ubuntu:
    'NAME="Ubuntu"\nVERSION="24.04.1 LTS (Noble Numbat)"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID="24.04"\n',
  amazonLinux2: 'NAME="Amazon Linux"\nVERSION="2"\nID="amzn"\nID_LIKE="centos rhel fedora"\nVERSION_ID="2"\n',
  rhel9: 'NAME="Red Hat Enterprise Linux"\nID="rhel"\nID_LIKE="fedora"\nVERSION_ID="9.4"\n',
};

// An excerpt of Debian's /etc/default/kdump-tools: the script must amend it, keeping the comments.
const DEBIAN_KDUMP_DEFAULTS = `# kdump-tools configuration
USE_KDUMP=1
KDUMP_COREDIR="/var/crash"
# MAKEDUMP_ARGS - extra arguments passed to makedumpfile (8).
#MAKEDUMP_ARGS="-c -d 31"
#KDUMP_NUM_DUMPS=
`;

function imageRoot(distribution: keyof typeof OS_RELEASE, extra: Record<string, string> = {}): string {
  const root = tempDir("root");
  writeTree(root, {
    "etc/os-release": OS_RELEASE[distribution],
    "etc/fstab": "/dev/xvda1 / ext4 defaults 0 1\n",
    ...extra,
  });
  return root;
}

// The machine is named: the sysctls differ by architecture, and the tests must not depend on the host's.
function configure(root: string, env: Record<string, string> = {}) {
  return runScript(IR_KDUMP, ["configure"], {
    IR_KDUMP_TARGET_ROOT: root,
    IR_KDUMP_MACHINE: "x86_64",
    ...env,
  });
}

const read = (root: string, path: string): string => readFileSync(join(root, path), "utf8");

describe("ir-kdump provisioning script", () => {
  const roots: string[] = [];
  const track = (root: string): string => {
    roots.push(root);
    return root;
  };
  after(() => roots.forEach((root) => rmSync(root, { recursive: true, force: true })));

  describe("crash-kernel reservation by memory (crashkernel_mib_for_memory)", () => {
    const table: [memoryMib: number, reserveMib: number][] = [
      [512, 0],
      [1023, 0],
      [1024, 256],
      [2048, 256],
      [4095, 256],
      [4096, 384],
      [16383, 384],
      [16384, 512],
      [65535, 512],
      [65536, 768],
      [131071, 768],
      [131072, 1024],
      [786432, 1024],
    ];
    for (const [memory, reserve] of table) {
      it(`reserves ${reserve} MiB for ${memory} MiB of RAM`, () => {
        const result = runScript(IR_KDUMP, ["crashkernel-mib", String(memory)]);
        expect(result.status, result.stderr).to.equal(0);
        expect(result.stdout.trim()).to.equal(String(reserve));
      });
    }

    it("refuses a memory size that is not a whole number of MiB", () => {
      const result = runScript(IR_KDUMP, ["crashkernel-mib", "4G"]);
      expect(result.status).to.equal(1);
      expect(result.stderr).to.match(/whole number of MiB/);
    });

    it("writes the same ladder into the kernel's range syntax, so the kernel picks the band at boot", () => {
      const param = runScript(IR_KDUMP, ["crashkernel-param"]).stdout.trim();
      expect(param).to.equal("1G-4G:256M,4G-16G:384M,16G-64G:512M,64G-128G:768M,128G-:1024M");
      // Evaluate the range syntax as the kernel does (start inclusive, end exclusive) for every band edge.
      const bands = param.split(",").map((band) => {
        const [, start, end, size] = /^(\d+)G-(\d*)G?:(\d+)M$/.exec(band) ?? [];
        return { start: Number(start) * 1024, end: end ? Number(end) * 1024 : Infinity, size: Number(size) };
      });
      for (const memory of [1000, 1024, 3000, 4096, 9000, 16384, 50000, 65536, 100000, 131072, 500000]) {
        const kernel = bands.find((band) => memory >= band.start && memory < band.end)?.size ?? 0;
        const rule = Number(runScript(IR_KDUMP, ["crashkernel-mib", String(memory)]).stdout.trim());
        expect(kernel, `${memory} MiB`).to.equal(rule);
      }
    });
  });

  describe("distribution detection from os-release", () => {
    const cases: [string, string, number, string][] = [
      ["Amazon Linux 2023", OS_RELEASE.al2023, 0, "al2023"],
      ["Debian 12", OS_RELEASE.debian, 0, "debian"],
      ["Ubuntu 24.04", OS_RELEASE.ubuntu, 0, "ubuntu"],
      ["Amazon Linux 2 (no final_action in its kexec-tools)", OS_RELEASE.amazonLinux2, 2, ""],
      ["RHEL 9", OS_RELEASE.rhel9, 2, ""],
    ];
    for (const [label, content, status, family] of cases) {
      it(`${label} -> ${family || "unsupported"}`, () => {
        const file = join(track(tempDir("os")), "os-release");
        writeFileSync(file, content);
        const result = runScript(IR_KDUMP, ["detect", file]);
        expect(result.status, result.stderr).to.equal(status);
        expect(result.stdout.trim()).to.equal(family);
        if (status !== 0) expect(result.stderr).to.match(/unsupported distribution/);
      });
    }

    it("reads os-release as data: shell code in it is never run", () => {
      const dir = track(tempDir("os"));
      const marker = join(dir, "pwned");
      writeFileSync(join(dir, "os-release"), `ID=debian$(touch ${marker})\nVERSION_ID="12"\n`);
      const result = runScript(IR_KDUMP, ["detect", join(dir, "os-release")]);
      expect(result.status).to.equal(2);
      expect(existsSync(marker)).to.equal(false);
    });

    it("refuses to configure an unsupported distribution and writes nothing", () => {
      const root = track(imageRoot("amazonLinux2"));
      const before = treeDigest(root);
      expect(configure(root).status).to.equal(2);
      expect(treeDigest(root)).to.deep.equal(before);
    });
  });

  describe("configuration on Debian/Ubuntu (kdump-tools)", () => {
    let root: string;
    before(() => {
      root = track(imageRoot("debian", { "etc/default/kdump-tools": DEBIAN_KDUMP_DEFAULTS }));
      const result = configure(root);
      expect(result.status, result.stderr).to.equal(0);
      expect(result.stdout.trim()).to.equal("debian");
    });

    it("makes the kernel panic on the unknown NMI EC2 sends, and never reboot after a panic", () => {
      const sysctl = read(root, "etc/sysctl.d/90-ir-kdump.conf");
      for (const line of [
        "kernel.unknown_nmi_panic = 1",
        "kernel.panic_on_unrecovered_nmi = 1",
        "kernel.panic_on_io_nmi = 1",
        "kernel.panic = 0",
        "kernel.softlockup_panic = 0",
      ]) {
        expect(sysctl.split("\n"), line).to.include(line);
      }
    });

    it("on arm64 (Graviton) leaves out the NMI keys, which exist only on x86, and keeps the panic rules", () => {
      const armRoot = track(imageRoot("debian", { "etc/default/kdump-tools": DEBIAN_KDUMP_DEFAULTS }));
      expect(configure(armRoot, { IR_KDUMP_MACHINE: "aarch64" }).status).to.equal(0);
      const sysctl = read(armRoot, "etc/sysctl.d/90-ir-kdump.conf");
      expect(sysctl).not.to.match(/nmi/);
      expect(sysctl.split("\n")).to.include.members(["kernel.panic = 0", "kernel.softlockup_panic = 0"]);
    });

    it("powers off after the dump: the capture kernel's dump unit runs ir-kdump save-dump, not kdump-tools' reboot", () => {
      const dropin = read(root, "etc/systemd/system/kdump-tools-dump.service.d/ir-kdump-poweroff.conf");
      const execStarts = dropin.split("\n").filter((line) => line.startsWith("ExecStart="));
      // The empty ExecStart= clears the packaged one (which ends in `reboot -f`); without it both would run.
      expect(execStarts).to.deep.equal(["ExecStart=", "ExecStart=/usr/local/sbin/ir-kdump save-dump"]);
    });

    it("keeps user and page-cache pages (dump level 17), lzo-compressed, never purges old dumps", () => {
      const defaults = read(root, "etc/default/kdump-tools");
      expect(defaults).to.include('MAKEDUMP_ARGS="-l -d 17"\n');
      expect(defaults).to.include('KDUMP_COREDIR="/var/crash"\n');
      expect(defaults).to.include("KDUMP_NUM_DUMPS=0\n");
      expect(defaults, "distribution comments are kept").to.include("# MAKEDUMP_ARGS - extra arguments");
      expect(defaults.match(/^#?MAKEDUMP_ARGS=/gm), "one MAKEDUMP_ARGS line").to.have.length(1);
    });

    it("boots the capture kernel without systemd's tmpfiles setup, which would empty /tmp before the dump", () => {
      const defaults = read(root, "etc/default/kdump-tools");
      const append = defaults.match(/^KDUMP_CMDLINE_APPEND="([^"]*)"$/m)?.[1]?.split(" ") ?? [];
      expect(append).to.include("systemd.mask=systemd-tmpfiles-setup.service");
      // kdump-tools' own default (kdump-config), kept whole: the dump unit as target, one CPU, no USB.
      expect(append).to.include.members([
        "reset_devices",
        "systemd.unit=kdump-tools-dump.service",
        "nr_cpus=1",
        "irqpoll",
        "usbcore.nousb",
      ]);
    });

    it("reserves crash memory through GRUB, replacing kdump-tools' own crashkernel=", () => {
      const grub = read(root, "etc/default/grub.d/zz-ir-kdump.cfg");
      expect(grub).to.include("sed 's/crashkernel=[^ ]*//g'");
      expect(grub).to.include("crashkernel=1G-4G:256M,4G-16G:384M,16G-64G:512M,64G-128G:768M,128G-:1024M");
      // Sourced by sh: it must evaluate to a command line with exactly one crashkernel=.
      const evaluated = runFunction(
        "/dev/null",
        `GRUB_CMDLINE_LINUX_DEFAULT="quiet crashkernel=384M-:128M"; . "${join(root, "etc/default/grub.d/zz-ir-kdump.cfg")}"; echo "$GRUB_CMDLINE_LINUX_DEFAULT"`,
      ).stdout;
      expect(evaluated.match(/crashkernel=/g)).to.have.length(1);
      expect(evaluated).to.include("quiet");
    });

    it("makes normal reboots real resets (no kexec reboot)", () => {
      expect(read(root, "etc/default/kexec")).to.include("LOAD_KEXEC=false\n");
    });

    it("rebuilds the capture initrd with our module list after kernel upgrades", () => {
      expect(read(root, "etc/kernel/postinst.d/zz-ir-kdump-initrd")).to.include(
        "/usr/local/sbin/ir-kdump build-capture-initrd",
      );
    });

    it("creates a private dump directory", () => {
      expect(existsSync(join(root, "var/crash"))).to.equal(true);
      expect(treeDigest(root)).to.satisfy((digest: Record<string, string>) =>
        Object.keys(digest).every((path) => !path.startsWith("var/crash/")),
      );
    });
  });

  describe("configuration on Amazon Linux 2023 (kexec-tools, kdumpctl)", () => {
    it("writes kdump.conf with the dump level and power-off after success and failure, keeping the original", () => {
      const root = track(
        imageRoot("al2023", {
          "etc/kdump.conf": "path /var/crash\ncore_collector makedumpfile -l --message-level 7 -d 31\n",
        }),
      );
      expect(configure(root).status).to.equal(0);
      const conf = read(root, "etc/kdump.conf").split("\n");
      expect(conf).to.include.members([
        "path /var/crash",
        "core_collector makedumpfile -l -d 17 --message-level 7",
        "final_action poweroff",
        "failure_action poweroff",
      ]);
      expect(read(root, "etc/kdump.conf.ir-orig")).to.include("-d 31");
    });

    it("dumps to a dedicated volume given as UUID=, mounted nofail and noexec", () => {
      const root = track(imageRoot("al2023"));
      const uuid = "UUID=0b7c6a9e-3f1d-4c2a-9e8b-5d4f3a2b1c0d";
      expect(
        configure(root, { IR_KDUMP_DUMP_DEVICE: uuid, IR_KDUMP_DUMP_DIR: "/var/crash-volume" }).status,
      ).to.equal(0);
      const conf = read(root, "etc/kdump.conf").split("\n");
      expect(conf).to.include.members([`ext4 ${uuid}`, "path /"]);
      const fstab = read(root, "etc/fstab").split("\n");
      expect(fstab).to.include(
        `${uuid} /var/crash-volume ext4 defaults,nofail,noexec,nosuid,nodev 0 2 # ir-kdump dedicated dump volume`,
      );
      expect(fstab, "the root entry stays").to.include("/dev/xvda1 / ext4 defaults 0 1");

      // Back to the root filesystem: the managed fstab line goes away.
      expect(configure(root, { IR_KDUMP_DUMP_DEVICE: "", IR_KDUMP_DUMP_DIR: "/var/crash" }).status).to.equal(
        0,
      );
      expect(read(root, "etc/fstab")).to.equal("/dev/xvda1 / ext4 defaults 0 1\n");
    });
  });

  describe("settings are validated before anything is written", () => {
    const refusals: [string, Record<string, string>, RegExp][] = [
      ["a dump level above 31", { IR_KDUMP_DUMP_LEVEL: "32" }, /DUMP_LEVEL must be 0..31/],
      ["an unknown compression", { IR_KDUMP_COMPRESSION: "zstd" }, /COMPRESSION must be lzo, zlib or none/],
      ["a relative dump directory", { IR_KDUMP_DUMP_DIR: "var/crash" }, /absolute path/],
      ["an unstable NVMe device name", { IR_KDUMP_DUMP_DEVICE: "/dev/nvme1n1" }, /UUID=... or LABEL=.../],
      ["an unsupported filesystem", { IR_KDUMP_DUMP_FSTYPE: "btrfs" }, /ext4 or xfs/],
    ];
    for (const [label, env, message] of refusals) {
      it(`refuses ${label}`, () => {
        const root = track(imageRoot("debian"));
        const before = treeDigest(root);
        const result = configure(root, env);
        expect(result.status).to.equal(1);
        expect(result.stderr).to.match(message);
        expect(treeDigest(root)).to.deep.equal(before);
      });
    }
  });

  describe("idempotency", () => {
    for (const distribution of ["debian", "ubuntu", "al2023"] as const) {
      it(`configuring ${distribution} twice yields the same files and reports nothing changed`, () => {
        const root = track(imageRoot(distribution, { "etc/default/kdump-tools": DEBIAN_KDUMP_DEFAULTS }));
        expect(configure(root).status).to.equal(0);
        const first = treeDigest(root);
        const second = configure(root);
        expect(second.status).to.equal(0);
        expect(treeDigest(root)).to.deep.equal(first);
        expect(second.stderr).not.to.match(/wrote|set |updated/);
      });
    }

    it("remembers the settings of the last prepare for check and for later runs", () => {
      const root = track(imageRoot("debian"));
      expect(configure(root, { IR_KDUMP_DUMP_LEVEL: "31", IR_KDUMP_COMPRESSION: "zlib" }).status).to.equal(0);
      expect(configure(root).status).to.equal(0);
      expect(read(root, "etc/default/kdump-tools")).to.include('MAKEDUMP_ARGS="-c -d 31"');
    });
  });

  describe("readiness check", () => {
    interface Machine {
      root: string;
      env: Record<string, string>;
    }
    const NMI_SYSCTLS = {
      "proc/sys/kernel/unknown_nmi_panic": "1\n",
      "proc/sys/kernel/panic_on_unrecovered_nmi": "1\n",
      "proc/sys/kernel/panic_on_io_nmi": "1\n",
    };
    // An arm64 kernel kexec-tools can build crash headers for, with Arm's AGDI (Graviton's diagnostic interrupt).
    const ARM64_KERNEL = {
      "proc/kallsyms": "ffff800008000000 T _text\nffff800008010000 T _stext\n",
      "proc/sys/kernel/osrelease": "6.1.0-50-arm64\n",
    };
    const ARM64_CONFIG = "boot/config-6.1.0-50-arm64";
    const readyMachine = (machine = "x86_64"): Machine => {
      const root = track(imageRoot("debian"));
      expect(configure(root, { IR_KDUMP_MACHINE: machine }).status).to.equal(0);
      if (machine === "aarch64") writeTree(root, { [ARM64_CONFIG]: "CONFIG_ACPI=y\nCONFIG_ACPI_AGDI=y\n" });
      const kernel = track(tempDir("kernel"));
      writeTree(kernel, {
        "sys/kernel/kexec_crash_loaded": "1\n",
        "sys/kernel/kexec_crash_size": `${256 * 1024 * 1024}\n`,
        "proc/meminfo": "MemTotal:        1800000 kB\nMemFree:          900000 kB\n",
        "proc/cmdline":
          "root=/dev/vda rw crashkernel=1G-4G:256M,4G-16G:384M,16G-64G:512M,64G-128G:768M,128G-:1024M\n",
        ...(machine === "x86_64" ? NMI_SYSCTLS : ARM64_KERNEL),
        "proc/sys/kernel/panic": "0\n",
        "proc/sys/kernel/softlockup_panic": "0\n",
      });
      return {
        root,
        env: {
          IR_KDUMP_MACHINE: machine,
          IR_KDUMP_TARGET_ROOT: root,
          IR_KDUMP_SYS: join(kernel, "sys"),
          IR_KDUMP_PROC: join(kernel, "proc"),
        },
      };
    };

    it("passes on a prepared machine with the capture kernel loaded", () => {
      const machine = readyMachine();
      const result = runScript(IR_KDUMP, ["check"], machine.env);
      expect(result.status, result.stdout).to.equal(0);
      expect(result.stdout).to.match(/^READY: an NMI will produce a crash dump/m);
      expect(result.stdout).not.to.match(/^FAIL/m);
      expect(result.stdout).to.include("PASS crash memory reserved: 256 MiB (ladder: 256 MiB)");
    });

    it("passes on arm64 without the NMI keys its kernel does not have", () => {
      const result = runScript(IR_KDUMP, ["check"], readyMachine("aarch64").env);
      expect(result.status, result.stdout).to.equal(0);
      expect(result.stdout).not.to.match(/nmi/);
      expect(result.stdout).to.include("PASS arm64 crash headers: _text in kallsyms");
      expect(result.stdout).to.include("PASS arm64 diagnostic interrupt: CONFIG_ACPI_AGDI=y");
    });

    const arm64Breakages: [string, (machine: Machine) => void, RegExp][] = [
      [
        "kallsyms has no _text (Debian 12's arm64 kernel: kexec-tools builds an unreadable /proc/vmcore)",
        (m) => writeFileSync(join(m.env.IR_KDUMP_PROC!, "kallsyms"), "ffff800008010000 T _stext\n"),
        /^FAIL arm64 crash headers: no _text in kallsyms/m,
      ],
      [
        "the kernel is built without AGDI (Debian 12's arm64 kernel)",
        (m) => writeFileSync(join(m.root, ARM64_CONFIG), "CONFIG_ACPI=y\n# CONFIG_ACPI_AGDI is not set\n"),
        /^FAIL arm64 diagnostic interrupt: kernel 6.1.0-50-arm64 built without CONFIG_ACPI_AGDI/m,
      ],
      [
        "the kernel's config cannot be read",
        (m) => rmSync(join(m.root, ARM64_CONFIG)),
        /^FAIL arm64 diagnostic interrupt: cannot tell/m,
      ],
    ];
    for (const [label, breakIt, failure] of arm64Breakages) {
      it(`fails on arm64 when ${label}`, () => {
        const machine = readyMachine("aarch64");
        breakIt(machine);
        const result = runScript(IR_KDUMP, ["check"], machine.env);
        expect(result.status).to.equal(1);
        expect(result.stdout).to.match(failure);
        expect(result.stdout).to.match(/^NOT READY: 1 check\(s\) failed/m);
      });
    }

    const breakages: [string, (machine: Machine) => void, RegExp][] = [
      [
        "the capture kernel is not loaded",
        (m) => writeFileSync(join(m.env.IR_KDUMP_SYS!, "kernel/kexec_crash_loaded"), "0\n"),
        /^FAIL capture kernel loaded/m,
      ],
      [
        "no crash memory is reserved",
        (m) => writeFileSync(join(m.env.IR_KDUMP_SYS!, "kernel/kexec_crash_size"), "0\n"),
        /^FAIL crash memory reserved: none/m,
      ],
      [
        "unknown NMIs do not panic",
        (m) => writeFileSync(join(m.env.IR_KDUMP_PROC!, "sys/kernel/unknown_nmi_panic"), "0\n"),
        /^FAIL sysctl kernel.unknown_nmi_panic = 0 \(want 1\)/m,
      ],
      [
        "the kernel reboots after a panic",
        (m) => writeFileSync(join(m.env.IR_KDUMP_PROC!, "sys/kernel/panic"), "10\n"),
        /^FAIL sysctl kernel.panic = 10/m,
      ],
      [
        "the dump directory is gone",
        (m) => rmSync(join(m.root, "var/crash"), { recursive: true }),
        /^FAIL dump target writable/m,
      ],
      [
        "kdump-tools would reboot after the dump",
        (m) => rmSync(join(m.root, "etc/systemd/system/kdump-tools-dump.service.d/ir-kdump-poweroff.conf")),
        /^FAIL power-off after dump/m,
      ],
    ];
    for (const [label, breakIt, failure] of breakages) {
      it(`fails when ${label}`, () => {
        const machine = readyMachine();
        breakIt(machine);
        const result = runScript(IR_KDUMP, ["check"], machine.env);
        expect(result.status).to.equal(1);
        expect(result.stdout).to.match(failure);
        expect(result.stdout).to.match(/^NOT READY: 1 check\(s\) failed/m);
      });
    }

    it("checks power-off on Amazon Linux 2023 in kdump.conf", () => {
      const root = track(imageRoot("al2023"));
      expect(configure(root).status).to.equal(0);
      const conf = read(root, "etc/kdump.conf").replace("final_action poweroff", "final_action reboot");
      writeFileSync(join(root, "etc/kdump.conf"), conf);
      const result = runScript(IR_KDUMP, ["check"], { IR_KDUMP_TARGET_ROOT: root });
      expect(result.stdout).to.match(
        /^FAIL power-off after dump: \/etc\/kdump.conf has no 'final_action poweroff'/m,
      );
    });
  });

  describe("capture-kernel entry point (save-dump)", () => {
    it("does nothing, and above all does not power off, outside a capture kernel", () => {
      const proc = track(tempDir("proc"));
      // A poweroff on PATH that records being called: it must not be.
      const bin = track(tempDir("bin"));
      const called = join(bin, "called");
      writeTree(bin, {
        systemctl: `#!/bin/sh\ntouch ${called}\n`,
        poweroff: `#!/bin/sh\ntouch ${called}\n`,
      });
      runFunction("/dev/null", `chmod +x "${bin}/systemctl" "${bin}/poweroff"`);
      const result = runScript(IR_KDUMP, ["save-dump"], {
        IR_KDUMP_PROC: proc,
        PATH: `${bin}:${process.env.PATH ?? ""}`,
      });
      expect(result.status).to.equal(0);
      expect(result.stderr).to.match(/no \/proc\/vmcore: not a capture kernel/);
      expect(existsSync(called)).to.equal(false);
    });

    // A capture kernel: /proc/vmcore exists; kdump-config and systemctl are stand-ins that record their calls.
    const captureKernel = (kdumpConfig: string) => {
      const proc = track(tempDir("proc"));
      // Empty: arm64 with kexec-tools 2.0.25 gives /proc/vmcore a negative size (broken crash headers).
      writeTree(proc, { vmcore: "" });
      const bin = track(tempDir("bin"));
      const dumps = track(tempDir("crash"));
      writeTree(bin, {
        "kdump-config": `#!/bin/sh\n${kdumpConfig}\n`,
        systemctl: `#!/bin/sh\necho "$@" > ${bin}/called\n`,
      });
      runFunction("/dev/null", `chmod +x "${bin}/kdump-config" "${bin}/systemctl"`);
      const result = runScript(IR_KDUMP, ["save-dump"], {
        IR_KDUMP_PROC: proc,
        IR_KDUMP_DUMP_DIR: dumps,
        IR_KDUMP_KDUMP_CONFIG: join(bin, "kdump-config"),
        PATH: `${bin}:${process.env.PATH ?? ""}`,
      });
      return { result, poweroff: () => readFileSync(join(bin, "called"), "utf8").trim() };
    };

    it("saves the dump and powers off", () => {
      const run = captureKernel(
        'mkdir -p "$IR_KDUMP_DUMP_DIR/202612070101" && echo data > "$IR_KDUMP_DUMP_DIR/202612070101/dump.202612070101"',
      );
      expect(run.result.stderr).to.match(/dump saved in .*; powering off/);
      expect(run.poweroff()).to.equal("poweroff --force");
    });

    const failures: [string, string][] = [
      ["kdump-config fails", "exit 3"],
      // kdump-config reports its makedumpfile | compress pipe's status: the compressor's.
      [
        "the dump is empty although kdump-config says it saved it",
        'mkdir -p "$IR_KDUMP_DUMP_DIR/1" && : > "$IR_KDUMP_DUMP_DIR/1/dump.1"',
      ],
      ["no dump file was written", "exit 0"],
    ];
    for (const [label, kdumpConfig] of failures) {
      it(`reports a failed dump and still powers off when ${label}`, () => {
        const run = captureKernel(kdumpConfig);
        expect(run.result.stderr).to.match(/dump FAILED .*powering off anyway/);
        expect(run.poweroff()).to.equal("poweroff --force");
      });
    }
  });
});
