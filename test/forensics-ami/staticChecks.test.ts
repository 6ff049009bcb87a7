// shellcheck of every script and `packer validate .` of both AMI configurations (one folder each) with Debian's
// packer 1.6.6 (CI installs both; locally they are skipped with a message only when the tool itself is missing).
import { expect } from "chai";
import { spawnSync } from "child_process";
import {
  copyFileSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "fs";
import { join } from "path";
import { FORENSICS_AMI_DIR, hasCommand, SCRIPTS_DIR, tempDir } from "./scriptRunner";

const PACKER_DIR = join(FORENSICS_AMI_DIR, "packer");
/** Packer reads a folder as one configuration: one folder per AMI. */
const CONFIGURATIONS = ["kdump-workload", "forensic-workstation"];
const [KDUMP_WORKLOAD, FORENSIC_WORKSTATION] = CONFIGURATIONS.map((name) => join(PACKER_DIR, name)) as [
  string,
  string,
];

/** A configuration's own template, named after its folder (the shared amazon-ebs.pkr.hcl is linked in). */
const templateOf = (configuration: string) =>
  readFileSync(join(configuration, `${configuration.split("/").at(-1)}.pkr.hcl`), "utf8");

/** Every packer file of every configuration, the shared one included. */
function packerFiles(): string[] {
  return [...CONFIGURATIONS, "common"].flatMap((folder) =>
    readdirSync(join(PACKER_DIR, folder))
      .filter((name) => name.endsWith(".pkr.hcl") || name.endsWith(".pkrvars.hcl"))
      .map((name) => join(PACKER_DIR, folder, name)),
  );
}

/** Every shell script under forensics-ami/: scripts/*, vm-proof/*.sh and ci-check.sh. */
function shellScripts(): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (readFileSync(full, "utf8").startsWith("#!/usr/bin/env bash")) found.push(full);
    }
  };
  walk(FORENSICS_AMI_DIR);
  return found.sort();
}

function packer(args: string[], cwd: string) {
  // CHECKPOINT_DISABLE: packer would otherwise try to reach its version-check service.
  return spawnSync("packer", args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, CHECKPOINT_DISABLE: "1" },
    timeout: 60_000,
  });
}

describe("forensics-ami static checks", () => {
  describe("shellcheck", function () {
    this.timeout(120_000);
    before(function () {
      if (!hasCommand("shellcheck")) {
        console.log("      (shellcheck not installed: apt-get install shellcheck; CI installs it)");
        this.skip();
      }
    });

    it("finds the scripts it must check", () => {
      const names = shellScripts().map((path) => path.slice(FORENSICS_AMI_DIR.length + 1));
      expect(names).to.include.members([
        "scripts/ir-kdump",
        "scripts/ir-evidence-mount",
        "scripts/forensic-workstation-setup",
        "scripts/ir-triage",
        "vm-proof/kdump-vm-proof.sh",
        "vm-proof/evidence-vm-proof.sh",
        "vm-proof/triage-vm-proof.sh",
        "vm-proof/vm-common.sh",
        "ci-check.sh",
      ]);
    });

    it("every script is shellcheck-clean (all severities)", () => {
      const result = spawnSync("shellcheck", ["--severity=style", ...shellScripts()], { encoding: "utf8" });
      expect(result.status, result.stdout + result.stderr).to.equal(0);
    });
  });

  describe("packer validate (Debian's packer 1.6.6: no required_plugins, no init)", function () {
    this.timeout(120_000);
    before(function () {
      if (!hasCommand("packer")) {
        console.log("      (packer not installed: apt-get install packer; CI installs it)");
        this.skip();
      }
    });

    for (const configuration of CONFIGURATIONS) {
      it(`packer/${configuration} validates (packer validate . in it)`, () => {
        const result = packer(["validate", "."], join(PACKER_DIR, configuration));
        expect(result.status, result.stdout + result.stderr).to.equal(0);
      });

      it(`packer/${configuration} is packer-fmt formatted`, () => {
        const result = packer(["fmt", "-check", "."], join(PACKER_DIR, configuration));
        expect(result.status, `run: packer fmt packer/${configuration}\n${result.stdout}`).to.equal(0);
      });
    }

    it("the folder above the configurations is none itself (the two would declare the same variables)", () => {
      expect(readdirSync(PACKER_DIR).filter((name) => name.endsWith(".pkr.hcl"))).to.deep.equal([]);
    });

    it("both configurations read the one shared amazon-ebs.pkr.hcl (linked, not copied)", () => {
      for (const configuration of [KDUMP_WORKLOAD, FORENSIC_WORKSTATION]) {
        const linked = join(configuration, "amazon-ebs.pkr.hcl");
        expect(lstatSync(linked).isSymbolicLink(), linked).to.equal(true);
        expect(realpathSync(linked)).to.equal(realpathSync(join(PACKER_DIR, "common", "amazon-ebs.pkr.hcl")));
      }
    });

    it("validation catches a template whose provisioning script is missing (the check is not vacuous)", () => {
      const dir = tempDir("packer");
      try {
        const copy = join(dir, "packer", "kdump-workload");
        mkdirSync(copy, { recursive: true });
        mkdirSync(join(dir, "scripts"));
        // copyFileSync follows the link to the shared file: the copy is the whole configuration.
        for (const name of readdirSync(KDUMP_WORKLOAD))
          copyFileSync(join(KDUMP_WORKLOAD, name), join(copy, name));
        const result = packer(["validate", "."], copy);
        expect(result.status).to.not.equal(0);
        expect(result.stdout + result.stderr).to.match(/scripts\/ir-kdump/);
        copyFileSync(join(SCRIPTS_DIR, "ir-kdump"), join(dir, "scripts", "ir-kdump"));
        expect(packer(["validate", "."], copy).status).to.equal(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("the workload AMI carries ir:kdump-ready=true, the tag the responder reads", () => {
      const result = packer(["inspect", "."], KDUMP_WORKLOAD);
      expect(result.status, result.stderr).to.equal(0);
      const amiTags = /local\.ami_tags: "(.*)"$/m.exec(result.stdout)?.[1] ?? "";
      expect(amiTags).to.include('\\"ir:kdump-ready\\" = \\"true\\"');
      // ... and user tags cannot override it (merge order: user tags first, ours last).
      const overridden = packer(["inspect", "-var", 'tags={"ir:kdump-ready"="false"}', "."], KDUMP_WORKLOAD);
      expect(/local\.ami_tags: "(.*)"$/m.exec(overridden.stdout)?.[1] ?? "").to.include(
        '\\"ir:kdump-ready\\" = \\"true\\"',
      );
    });

    it("the workload build verifies readiness after the reboot, so a not-ready image is never tagged", () => {
      const template = templateOf(KDUMP_WORKLOAD);
      const reboot = template.indexOf('inline            = ["systemctl reboot"]');
      const check = template.indexOf('inline          = ["/usr/local/sbin/ir-kdump check"]');
      expect(reboot, "reboot step").to.be.greaterThan(0);
      expect(check, "check step after the reboot").to.be.greaterThan(reboot);
    });

    it("the forensic workstation installs the evidence guard, ir-triage with its rules, and the tools", () => {
      const template = templateOf(FORENSIC_WORKSTATION);
      expect(template).to.include("${path.root}/../../scripts/forensic-workstation-setup");
      expect(template).to.include("${path.root}/../../scripts/ir-evidence-mount");
      expect(template).to.include("${path.root}/../../scripts/ir-triage");
      expect(template).to.include("${path.root}/../../triage-rules");
      for (const tool of [
        "sleuthkit",
        "ewf-tools",
        "dc3dd",
        "dcfldd",
        "hashdeep",
        "yara",
        "makedumpfile",
        "crash",
        "jq",
        "awscli",
      ]) {
        expect(template).to.include(`"${tool}"`);
      }
    });

    it("no packer file uses what packer 1.6.6 lacks", () => {
      for (const template of packerFiles()) {
        // Comments may name the block (the header explains why it is absent); code must not use it.
        const code = readFileSync(template, "utf8")
          .split("\n")
          .filter((line) => !line.trimStart().startsWith("#"))
          .join("\n");
        expect(code, template).not.to.match(/required_plugins|^packer\s*\{/m);
      }
      // A template with a required_plugins block is refused by this packer: the rule above is a real one.
      const dir = tempDir("packer");
      try {
        writeFileSync(
          join(dir, "t.pkr.hcl"),
          'packer {\n  required_plugins {\n    amazon = {\n      version = ">= 1.0.0"\n      source = "github.com/hashicorp/amazon"\n    }\n  }\n}\n',
        );
        expect(packer(["validate", "t.pkr.hcl"], dir).status).to.not.equal(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
