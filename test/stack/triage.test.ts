// The triage as the program provisions it: the SSM Command document (its parameters held to patterns, its script run
// for real by bash with stand-ins for ir-triage, the AWS CLI and the metadata service), the starter rules, the
// workstation role's right to upload, the responder's setting and statements; and none of it with `triage: false`.
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { expect } from "chai";

import type { PolicyDocument } from "../../infra/policies";
import { ruleFiles } from "../../infra/triage";
import { buildTriageDocumentContent, TRIAGE_PROGRAM_PATH } from "../../infra/triageDocument";
import {
  ACCOUNT_ID,
  BASE_CONFIG,
  runProgram,
  stackConfig,
  type ProgramRun,
} from "../../testkit/stackMockRun";
import { decide, fullStackRun } from "./policySimulation";

interface Parameter {
  allowedPattern: string;
  default?: string;
}
interface TriageDocument {
  schemaVersion: string;
  parameters: Record<string, Parameter>;
  mainSteps: { action: string; inputs: { runCommand: string[]; timeoutSeconds: string } }[];
}

const document = JSON.parse(buildTriageDocumentContent()) as TriageDocument;

/** The script as the agent runs it: SSM's {{ Name }} replaced by the values, as text. */
function rendered(values: Record<string, string>): string {
  const script = document.mainSteps[0]!.inputs.runCommand.join("\n");
  return script.replace(
    /\{\{ (\w+) \}\}/g,
    (_, name: string) => values[name] ?? document.parameters[name]!.default!,
  );
}

const accepts = (name: string, value: string) =>
  new RegExp(document.parameters[name]!.allowedPattern).test(value);

describe("the triage's SSM document, rules and IAM", function () {
  this.timeout(120_000);

  it("a Command document of schemaVersion 2.2 with one aws:runShellScript step and the contract's parameters", () => {
    expect(document.schemaVersion).to.equal("2.2");
    expect(document.mainSteps.map((step) => step.action)).to.deep.equal(["aws:runShellScript"]);
    expect(Object.keys(document.parameters)).to.deep.equal([
      "IncidentId",
      "EvidenceBucket",
      "Volumes",
      "TimelineHours",
      "HashBudgetSeconds",
    ]);
    expect(Buffer.byteLength(buildTriageDocumentContent())).to.be.below(64 * 1024);
  });

  it("each parameter lets its values through and nothing a shell would read as code", () => {
    expect(accepts("IncidentId", "inc-20261207T020000000Z-i-0123456789abcdef0")).to.equal(true);
    expect(
      accepts(
        "Volumes",
        Array.from({ length: 40 }, (_, i) => `vol-0123456789abcde${i.toString(16).padStart(2, "0")}`).join(
          " ",
        ),
      ),
    ).to.equal(true);
    expect(accepts("EvidenceBucket", "ir-evidence-111122223333")).to.equal(true);
    const hostile: [string, string][] = [
      ["IncidentId", "inc-1'; rm -rf / #"],
      ["IncidentId", "inc-1$(id)"],
      ["Volumes", "vol-0123456789abcdef0 $(reboot)"],
      ["Volumes", "vol-0123456789abcdef0\nreboot"],
      ["Volumes", ""],
      ["EvidenceBucket", "bucket' --endpoint-url 'http://attacker"],
      ["TimelineHours", "72; id"],
      ["HashBudgetSeconds", "-1"],
    ];
    for (const [name, value] of hostile)
      expect(accepts(name, value), `${name}=${JSON.stringify(value)}`).to.equal(false);
  });

  it("runs ir-triage with each volume, the rules and --upload to the incident's prefix (bash, stand-ins)", function () {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "triage-doc-"));
    const bin = path.join(work, "bin");
    fs.mkdirSync(bin);
    const stub = (name: string, body: string) =>
      fs.writeFileSync(path.join(bin, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
    stub("curl", 'case "$*" in *api/token*) echo token ;; *region*) echo eu-central-1 ;; esac');
    stub("aws", `echo "aws $* region=$AWS_DEFAULT_REGION" >> "${work}/calls"`);
    stub("ir-triage", `printf '%s\\n' "$@" > "${work}/args"`);
    const script = rendered({
      IncidentId: "inc-1",
      EvidenceBucket: "ir-evidence",
      Volumes: "vol-0123456789abcdef0 vol-0fedcba9876543210",
    })
      .split(TRIAGE_PROGRAM_PATH)
      .join(path.join(bin, "ir-triage"))
      .split("/var/lib/ir-triage")
      .join(path.join(work, "state"));
    const env = { PATH: `${bin}:/usr/bin:/bin` };
    execFileSync("bash", ["-c", script], { env });
    expect(fs.readFileSync(path.join(work, "args"), "utf8").trim().split("\n")).to.deep.equal([
      "--incident",
      "inc-1",
      "--out",
      path.join(work, "state", "inc-1"),
      "--volume",
      "vol-0123456789abcdef0",
      "--volume",
      "vol-0fedcba9876543210",
      "--rules",
      path.join(work, "state", "rules"),
      "--timeline-hours",
      "72",
      "--hash-budget-seconds",
      "600",
      "--upload",
      "s3://ir-evidence/incidents/inc-1/triage/",
    ]);
    expect(fs.readFileSync(path.join(work, "calls"), "utf8")).to.match(
      /^aws s3 sync --only-show-errors --delete s3:\/\/ir-evidence\/triage\/rules\/ .* region=eu-central-1\n$/,
    );
    // Without ir-triage: bash's 127, which the responder reads as "not a triage-capable image".
    fs.rmSync(path.join(bin, "ir-triage"));
    expect(spawnSync("bash", ["-c", script], { env }).status).to.equal(127);
    fs.rmSync(work, { recursive: true, force: true });
  });

  it("the script passes shellcheck (when installed)", function () {
    if (spawnSync("shellcheck", ["--version"]).status !== 0) this.skip();
    const answer = spawnSync("shellcheck", ["-s", "bash", "-"], {
      input: rendered({ IncidentId: "inc-1", EvidenceBucket: "b-1", Volumes: "vol-0123456789abcdef0" }),
    });
    expect(answer.stdout.toString()).to.equal("");
  });

  it("uploads the .yar files of the rules folder, sorted (none when there is no folder)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rules-"));
    fs.writeFileSync(path.join(dir, "b.yar"), "rule b { condition: false }\n");
    fs.writeFileSync(path.join(dir, "a.yar"), "rule a { condition: false }\n");
    fs.writeFileSync(path.join(dir, "README"), "not a rule\n");
    expect(ruleFiles(dir)).to.deep.equal(["a.yar", "b.yar"]);
    expect(ruleFiles(path.join(dir, "missing"))).to.deep.equal([]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe("in the stack", function () {
    let run: ProgramRun;
    before(async () => {
      run = await fullStackRun();
    });
    const workstationPolicy = () =>
      JSON.parse(
        run.one("aws:iam/rolePolicy:RolePolicy", "triage-workstation").inputs.policy as string,
      ) as PolicyDocument;
    const bucket = () => `arn:aws:s3:::${run.one("aws:s3/bucket:Bucket").state.bucket as string}`;
    const workstation = `arn:aws:sts::${ACCOUNT_ID}:assumed-role/ir-forensic/i-0f0e0d0c0b0a09080`;

    it("provisions the document and hands its name to the responder", () => {
      const provisioned = run.one("aws:ssm/document:Document", "triage");
      expect(provisioned.inputs).to.deep.include({ documentType: "Command", documentFormat: "JSON" });
      expect(provisioned.inputs.content).to.equal(buildTriageDocumentContent());
      const fn = run.one("aws:lambda/function:Function");
      const variables = (fn.inputs.environment as { variables: Record<string, string> }).variables;
      expect(variables.TRIAGE_DOCUMENT).to.equal(provisioned.state.name);
    });

    it("the workstation role may upload triage results and read the rules, nothing more of the bucket", async () => {
      const policy = workstationPolicy();
      const forensicRole = run.one("aws:iam/role:Role", "ir-forensic").state.name;
      expect(run.one("aws:iam/rolePolicy:RolePolicy", "triage-workstation").inputs.role).to.equal(
        forensicRole,
      );
      const verdict = async (action: string, resource: string, context = {}) =>
        (await decide(policy, action, resource, context, workstation)).verdict;
      expect(await verdict("s3:PutObject", `${bucket()}/incidents/inc-1/triage/summary.json`)).to.equal(
        "Allowed",
      );
      expect(await verdict("s3:PutObject", `${bucket()}/incidents/inc-1/report.json`)).to.equal(
        "ImplicitlyDenied",
      );
      expect(await verdict("s3:PutObject", `${bucket()}/triage/rules/evil.yar`)).to.equal("ImplicitlyDenied");
      expect(await verdict("s3:GetObject", `${bucket()}/triage/rules/starter.yar`)).to.equal("Allowed");
      expect(await verdict("s3:ListBucket", bucket(), { "s3:prefix": "triage/rules/" })).to.equal("Allowed");
      expect(await verdict("s3:ListBucket", bucket(), { "s3:prefix": "incidents/" })).to.equal(
        "ImplicitlyDenied",
      );
    });

    it("triage: false provisions nothing of it, and the responder may not send commands", async () => {
      const off = await runProgram({ ...BASE_CONFIG, ...stackConfig({ triage: "false" }) });
      expect(off.ofType("aws:ssm/document:Document").filter((r) => r.name.includes("triage"))).to.deep.equal(
        [],
      );
      expect(off.ofType("aws:s3/bucketObjectv2:BucketObjectv2")).to.deep.equal([]);
      const policy = JSON.parse(
        off.one("aws:iam/rolePolicy:RolePolicy", "ir-policy").inputs.policy as string,
      ) as PolicyDocument;
      const actions = policy.Statement.flatMap((statement) => statement.Action);
      expect(actions.filter((action) => action.startsWith("ssm:"))).to.deep.equal([]);
      const fn = off.one("aws:lambda/function:Function");
      const variables = (fn.inputs.environment as { variables: Record<string, string> }).variables;
      expect(variables.TRIAGE_DOCUMENT ?? "").to.equal("");
    });
  });
});
