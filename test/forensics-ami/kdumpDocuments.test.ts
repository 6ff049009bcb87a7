// infra/kdumpDocuments.ts: the generated SSM document and Image Builder component (table-driven), content versions
// and the self-tag policy. The script inside both documents must be forensics-ami/scripts/ir-kdump, byte for byte.
import { expect } from "chai";
import { spawnSync } from "child_process";
import { readFileSync, rmSync, writeFileSync } from "fs";
import { load } from "js-yaml";
import { join } from "path";
import { gunzipSync } from "zlib";
import { IR_KDUMP, tempDir } from "./scriptRunner";
import * as kdump from "../../infra/kdumpDocuments";
const SCRIPT = readFileSync(IR_KDUMP, "utf8");
const DEFAULTS = kdump.DEFAULT_DUMP_SETTINGS;

interface SsmDocument {
  schemaVersion: string;
  parameters: Record<
    string,
    { type: string; default: string; allowedPattern?: string; allowedValues?: string[] }
  >;
  mainSteps: {
    action: string;
    name: string;
    precondition: unknown;
    inputs: { timeoutSeconds: string; runCommand: string[] };
  }[];
}

interface ComponentDocument {
  name: string;
  schemaVersion: number;
  phases: { name: string; steps: { name: string; action: string; inputs: { commands?: string[] } }[] }[];
}

const ssmDocument = (options = { rebootIfNeeded: false, tagInstanceWhenReady: false }, settings = DEFAULTS) =>
  JSON.parse(kdump.buildSsmDocumentContent(SCRIPT, settings, options)) as SsmDocument;

/** Fills in SSM parameters as the agent does, then runs the runCommand lines with sh -n (syntax check). */
function renderRunCommand(document: SsmDocument, values: Record<string, string>): string {
  const text = document.mainSteps[0]!.inputs.runCommand.join("\n");
  return text.replace(
    /\{\{ (\w+) \}\}/g,
    (_, name: string) => values[name] ?? document.parameters[name]!.default,
  );
}

describe("kdump preparation documents (infra/kdumpDocuments.ts)", () => {
  describe("SSM document", () => {
    it("is a Command document, schema 2.2, one Linux shell step", () => {
      const document = ssmDocument();
      expect(document.schemaVersion).to.equal("2.2");
      expect(document.mainSteps).to.have.length(1);
      expect(document.mainSteps[0]).to.deep.include({
        action: "aws:runShellScript",
        precondition: { StringEquals: ["platformType", "Linux"] },
      });
    });

    it("carries forensics-ami/scripts/ir-kdump byte for byte", () => {
      const lines = ssmDocument().mainSteps[0]!.inputs.runCommand;
      const start = lines.indexOf("cat >\"$script\" <<'IR_KDUMP_SCRIPT_EOF'");
      const end = lines.indexOf("IR_KDUMP_SCRIPT_EOF");
      expect(start).to.be.greaterThan(-1);
      expect(lines.slice(start + 1, end).join("\n") + "\n").to.equal(SCRIPT);
    });

    it("is valid sh once SSM fills in the parameters, and writes the script back out unchanged", () => {
      const dir = tempDir("ssm");
      try {
        const rendered = renderRunCommand(ssmDocument(), {});
        // Run only the part that writes the script out, with mktemp pointed into our directory.
        const writer = rendered.slice(0, rendered.indexOf("export IR_KDUMP_DUMP_LEVEL"));
        writeFileSync(join(dir, "writer.sh"), writer.replace("script=$(mktemp)", `script=${dir}/ir-kdump`));
        expect(spawnSync("sh", ["-n", "-c", rendered]).status, "sh -n").to.equal(0);
        expect(spawnSync("sh", [join(dir, "writer.sh")]).status).to.equal(0);
        expect(readFileSync(join(dir, "ir-kdump"), "utf8")).to.equal(SCRIPT);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    const parameterCases: [string, string, string[], string[]][] = [
      ["DumpLevel", "17", ["0", "17", "31"], ["32", "-1", "17; reboot", "1 7"]],
      [
        "DumpDirectory",
        "/var/crash",
        ["/var/crash", "/data/crash-dumps"],
        ["var/crash", "/var/crash'; rm -rf /", "/a b"],
      ],
      [
        "DumpDevice",
        "",
        ["", "UUID=0b7c6a9e-3f1d", "LABEL=ir-crash"],
        ["/dev/nvme1n1", "UUID=x' y", "LABEL="],
      ],
    ];
    for (const [name, defaultValue, accepted, refused] of parameterCases) {
      it(`parameter ${name}: default '${defaultValue}', pattern accepts ${accepted.length} and refuses ${refused.length} values (no shell injection)`, () => {
        const parameter = ssmDocument().parameters[name]!;
        expect(parameter.default).to.equal(defaultValue);
        const pattern = new RegExp(parameter.allowedPattern!);
        for (const value of accepted) expect(pattern.test(value), `accepts '${value}'`).to.equal(true);
        for (const value of refused) expect(pattern.test(value), `refuses '${value}'`).to.equal(false);
      });
    }

    it("offers only the compressions the script knows, and yes/no switches defaulting to the component args", () => {
      const document = ssmDocument({ rebootIfNeeded: true, tagInstanceWhenReady: false });
      expect(document.parameters.Compression!.allowedValues).to.deep.equal(["lzo", "zlib", "none"]);
      expect(document.parameters.RebootIfNeeded).to.deep.include({
        default: "yes",
        allowedValues: ["yes", "no"],
      });
      expect(document.parameters.TagInstanceWhenReady).to.deep.include({ default: "no" });
    });

    it("reboots through the agent (exit 194) at most once, and reports NOT READY instead when not allowed", () => {
      const text = ssmDocument().mainSteps[0]!.inputs.runCommand.join("\n");
      expect(text).to.include("exit 194");
      expect(text).to.match(
        /if \[ -e \/var\/lib\/ir-kdump\/reboot-requested \]; then\n.*a reboot did not reserve/,
      );
      expect(text).to.match(/RebootIfNeeded=no\)'\n\s+exit 3/);
      expect(text.indexOf("ir-kdump check")).to.be.greaterThan(text.indexOf("prepare"));
    });

    it("passes the settings to the script through its documented environment", () => {
      const text = ssmDocument().mainSteps[0]!.inputs.runCommand.join("\n");
      for (const variable of Object.keys(kdump.scriptEnvironment(DEFAULTS))) {
        expect(SCRIPT, `the script documents ${variable}`).to.include(variable);
        expect(text).to.include(`${variable}='{{ `);
      }
    });

    const refusedSettings: [string, Partial<kdump.KdumpDumpSettings>, RegExp][] = [
      ["dump level 40", { dumpLevel: 40 }, /dumpLevel/],
      ["a fractional dump level", { dumpLevel: 1.5 }, /dumpLevel/],
      ["a relative directory", { dumpDirectory: "crash" }, /dumpDirectory/],
      ["a device name", { dumpDevice: "/dev/xvdf" }, /dumpDevice/],
    ];
    for (const [label, change, message] of refusedSettings) {
      it(`refuses ${label} at deploy time`, () => {
        expect(() =>
          kdump.buildSsmDocumentContent(
            SCRIPT,
            { ...DEFAULTS, ...change },
            { rebootIfNeeded: false, tagInstanceWhenReady: false },
          ),
        )
          .to.throw(kdump.KdumpPreparationError)
          .with.property("message")
          .that.matches(message);
      });
    }

    const unembeddable: [string, string][] = [
      ["SSM's {{ }} syntax", "#!/bin/sh\necho '{{ x }}'\n"],
      ["the here-document delimiter on a line", "#!/bin/sh\nIR_KDUMP_SCRIPT_EOF\n"],
      ["no final newline", "#!/bin/sh\necho hi"],
    ];
    for (const [label, script] of unembeddable) {
      it(`refuses a script with ${label}`, () => {
        expect(() =>
          kdump.buildSsmDocumentContent(script, DEFAULTS, {
            rebootIfNeeded: false,
            tagInstanceWhenReady: false,
          }),
        ).to.throw(kdump.KdumpPreparationError);
      });
    }
  });

  describe("Image Builder component", () => {
    const yaml = kdump.buildImageBuilderComponentYaml(SCRIPT, DEFAULTS);
    const document = load(yaml) as ComponentDocument;
    const phase = (name: string) => document.phases.find((p) => p.name === name);

    it("is YAML of component schema 1.0 within Image Builder's 16,000-character limit", () => {
      expect(document.schemaVersion).to.equal(1.0);
      expect(yaml.length).to.be.lessThanOrEqual(16_000);
    });

    it("installs the script byte for byte (gzip+base64, verified by SHA-256 on the instance)", () => {
      const install = phase("build")!.steps[0]!.inputs.commands![0]!;
      const payload =
        /^echo (\S+) \| base64 -d \| gunzip > \/usr\/local\/sbin\/ir-kdump/.exec(install)?.[1] ?? "";
      expect(gunzipSync(Buffer.from(payload, "base64")).toString("utf8")).to.equal(SCRIPT);
      expect(install).to.match(/sha256sum -c -$/);
    });

    it("prepares with the settings, reboots to reserve crash memory, then checks in validate and test", () => {
      expect(phase("build")!.steps.map((s) => s.action)).to.deep.equal([
        "ExecuteBash",
        "ExecuteBash",
        "Reboot",
      ]);
      expect(phase("build")!.steps[1]!.inputs.commands![0]).to.equal(
        "env IR_KDUMP_DUMP_LEVEL='17' IR_KDUMP_COMPRESSION='lzo' IR_KDUMP_DUMP_DIR='/var/crash' IR_KDUMP_DUMP_DEVICE='' /usr/local/sbin/ir-kdump prepare || test $? -eq 3",
      );
      for (const name of ["validate", "test"]) {
        expect(phase(name)!.steps[0]!.inputs.commands).to.deep.equal(["/usr/local/sbin/ir-kdump check"]);
      }
    });

    it("its commands are valid bash", () => {
      for (const p of document.phases) {
        for (const step of p.steps) {
          for (const command of step.inputs.commands ?? []) {
            expect(spawnSync("bash", ["-n", "-c", command]).status, command.slice(0, 80)).to.equal(0);
          }
        }
      }
    });
  });

  describe("content versions (Image Builder versions are immutable)", () => {
    it("stay the same for the same content and change with it", () => {
      const a = kdump.contentVersion("component", "ami-1");
      expect(kdump.contentVersion("component", "ami-1")).to.equal(a);
      expect(kdump.contentVersion("component", "ami-2")).to.not.equal(a);
      expect(kdump.contentVersion("componentami-1")).to.not.equal(a);
      expect(a).to.match(/^1\.\d+\.\d+$/);
    });
  });

  describe("self-tag policy", () => {
    const statement = (kdump.selfTagPolicy("aws") as { Statement: Record<string, unknown>[] }).Statement;

    it("allows only ec2:CreateTags of ir:kdump-ready=true, on the calling instance", () => {
      expect(statement).to.have.length(1);
      expect(statement[0]).to.deep.include({
        Effect: "Allow",
        Action: "ec2:CreateTags",
        Resource: "arn:aws:ec2:*:*:instance/*",
      });
      expect(statement[0]!.Condition).to.deep.equal({
        StringEquals: { "aws:ARN": "${ec2:SourceInstanceARN}", "aws:RequestTag/ir:kdump-ready": "true" },
        "ForAllValues:StringEquals": { "aws:TagKeys": ["ir:kdump-ready"] },
      });
    });
  });
});
