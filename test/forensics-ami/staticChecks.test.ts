// shellcheck of every script and `packer validate` of both templates with Debian's packer 1.6.6 (CI installs
// both; locally they are skipped with a message only when the tool itself is missing).
import { expect } from "chai";
import { spawnSync } from "child_process";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "fs";
import { join } from "path";
import { FORENSICS_AMI_DIR, hasCommand, SCRIPTS_DIR, tempDir } from "./scriptRunner";

const PACKER_DIR = join(FORENSICS_AMI_DIR, "packer");
const TEMPLATES = ["kdump-workload.pkr.hcl", "forensic-workstation.pkr.hcl"];

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
        "vm-proof/kdump-vm-proof.sh",
        "vm-proof/evidence-vm-proof.sh",
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

    for (const template of TEMPLATES) {
      it(`${template} validates`, () => {
        const result = packer(["validate", template], PACKER_DIR);
        expect(result.status, result.stdout + result.stderr).to.equal(0);
      });

      it(`${template} is packer-fmt formatted`, () => {
        const result = packer(["fmt", "-check", template], PACKER_DIR);
        expect(result.status, `run: packer fmt ${template}\n${result.stdout}`).to.equal(0);
      });
    }

    it("validation catches a template whose provisioning script is missing (the check is not vacuous)", () => {
      const dir = tempDir("packer");
      try {
        mkdirSync(join(dir, "packer"));
        mkdirSync(join(dir, "scripts"));
        copyFileSync(join(PACKER_DIR, TEMPLATES[0]!), join(dir, "packer", TEMPLATES[0]!));
        const result = packer(["validate", TEMPLATES[0]!], join(dir, "packer"));
        expect(result.status).to.not.equal(0);
        expect(result.stdout + result.stderr).to.match(/scripts\/ir-kdump/);
        copyFileSync(join(SCRIPTS_DIR, "ir-kdump"), join(dir, "scripts", "ir-kdump"));
        expect(packer(["validate", TEMPLATES[0]!], join(dir, "packer")).status).to.equal(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("the workload AMI carries ir:kdump-ready=true, the tag the responder reads", () => {
      const result = packer(["inspect", TEMPLATES[0]!], PACKER_DIR);
      expect(result.status, result.stderr).to.equal(0);
      const amiTags = /local\.ami_tags: "(.*)"$/m.exec(result.stdout)?.[1] ?? "";
      expect(amiTags).to.include('\\"ir:kdump-ready\\" = \\"true\\"');
      // ... and user tags cannot override it (merge order: user tags first, ours last).
      const overridden = packer(
        ["inspect", "-var", 'tags={"ir:kdump-ready"="false"}', TEMPLATES[0]!],
        PACKER_DIR,
      );
      expect(/local\.ami_tags: "(.*)"$/m.exec(overridden.stdout)?.[1] ?? "").to.include(
        '\\"ir:kdump-ready\\" = \\"true\\"',
      );
    });

    it("the workload build verifies readiness after the reboot, so a not-ready image is never tagged", () => {
      const template = readFileSync(join(PACKER_DIR, TEMPLATES[0]!), "utf8");
      const reboot = template.indexOf('inline            = ["systemctl reboot"]');
      const check = template.indexOf('inline          = ["/usr/local/sbin/ir-kdump check"]');
      expect(reboot, "reboot step").to.be.greaterThan(0);
      expect(check, "check step after the reboot").to.be.greaterThan(reboot);
    });

    it("the forensic workstation installs the evidence guard and the forensic tools", () => {
      const template = readFileSync(join(PACKER_DIR, TEMPLATES[1]!), "utf8");
      expect(template).to.include("../scripts/forensic-workstation-setup");
      expect(template).to.include("../scripts/ir-evidence-mount");
      for (const tool of ["sleuthkit", "ewf-tools", "dc3dd", "dcfldd", "hashdeep", "yara"]) {
        expect(template).to.include(`"${tool}"`);
      }
    });

    it("neither template uses what packer 1.6.6 lacks", () => {
      for (const template of TEMPLATES) {
        // Comments may name the block (the header explains why it is absent); code must not use it.
        const code = readFileSync(join(PACKER_DIR, template), "utf8")
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
