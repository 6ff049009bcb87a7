// How ir reports what stops it: a permission the caller lacks (exit 5, naming the action), a stack it cannot find
// (exit 2), and the mapping of errors to exit codes.
import { expect } from "chai";

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { stackResources } from "../../ir/context";
import { EXIT, explain, FAILED_CALL, notFound } from "../../ir/exitCodes";
import { runIr } from "../../ir/cli";
import type { PolicyDocument } from "../../simulator/iam/authorizer";
import { startHarness, stopDynamo, type Harness } from "../../testkit/harness";
import { operatorFor, operatorPolicyOf } from "../../testkit/operator";
import { webInstance } from "./support";

/** The operator policy without the statements of these Sids. */
const without = (policy: PolicyDocument, ...sids: string[]): PolicyDocument => ({
  ...policy,
  Statement: policy.Statement.filter((s) => !sids.includes((s as { Sid: string }).Sid)),
});

describe("ir errors", function () {
  this.timeout(120_000);
  let harness: Harness;

  before(async () => {
    harness = await startHarness();
  });
  after(async () => {
    // The denials these tests cause on purpose, and no other.
    const denied = harness.sim.iam.stats.denials.map((d) => d.check.action);
    expect([...new Set(denied)].sort()).to.deep.equal(["lambda:InvokeFunction", "states:DescribeExecution"]);
    await harness.stop().catch((error: Error) => expect(error.message).to.match(/^IAM denied 2 request/));
    await stopDynamo();
  });

  it("a permission the caller lacks: exit 5 naming the action (respond without lambda:InvokeFunction)", async () => {
    const policy = without(await operatorPolicyOf(harness), "InvokeResponder");
    const operator = await operatorFor(harness, { name: "bob", policies: [policy] });
    const instanceId = webInstance(harness);

    const result = await operator.ir("respond", instanceId, "--reason", "x");

    expect(result.code).to.equal(EXIT.accessDenied);
    expect(result.stderr).to.match(
      /\nir: access denied: your credentials may not call lambda:InvokeFunction \(/,
    );
    expect(await harness.record(instanceId)).to.equal(undefined);
  });

  it("list without states:DescribeExecution: exit 5 naming it (after a response, so there is an execution)", async () => {
    const instanceId = webInstance(harness);
    await harness.invoke(harness.sim.scenario.findingFor(instanceId, { severity: 8 }));
    const policy = without(await operatorPolicyOf(harness), "DescribeExecution");
    const operator = await operatorFor(harness, { name: "carol", policies: [policy] });

    const result = await operator.ir("--json", "list");

    expect(result.code).to.equal(EXIT.accessDenied);
    expect(result.stdout).to.equal("");
    expect(result.stderr).to.contain("may not call states:DescribeExecution");
  });

  it("no stack to work on: exit 2 saying which flags or variables to give", async () => {
    let stderr = "";
    const code = await runIr(["list"], {
      stdout: { write: () => true },
      stderr: { write: (text: string) => (stderr += text) },
      env: { PATH: "" },
    });
    expect(code).to.equal(EXIT.usage);
    expect(stderr).to.contain("--incident-table or IR_INCIDENT_TABLE");
  });

  it("finds the stack from pulumi stack output --json where the Pulumi CLI is on the PATH; flags win", () => {
    const bin = mkdtempSync(join(tmpdir(), "ir-pulumi-"));
    const outputs = {
      incidentTable: "table-from-pulumi",
      stateMachineArn: "arn:aws:states:eu-west-1:444455556666:stateMachine:ir",
      evidenceBucket: "bucket-from-pulumi",
      notificationTopicArn: "arn:aws:sns:eu-west-1:444455556666:ir",
      responderFunctionName: "ir-responder",
      evidenceRetention: { objectLockDays: 30 },
    };
    // A stand-in Pulumi CLI that records its arguments and prints the stack's outputs.
    writeFileSync(
      join(bin, "pulumi"),
      `#!/bin/sh\necho "$@" > "${bin}/args"\ncat <<'JSON'\n${JSON.stringify(outputs)}\nJSON\n`,
      { mode: 0o755 },
    );
    const options = { stack: "prod", evidenceBucket: "bucket-from-flag" };
    const resources = stackResources(options, { PATH: `${bin}:${process.env.PATH ?? ""}` });
    expect(resources).to.deep.equal({
      incidentTableName: "table-from-pulumi",
      stateMachineArn: outputs.stateMachineArn,
      evidenceBucketName: "bucket-from-flag",
      notificationTopicArn: outputs.notificationTopicArn,
      responderFunctionName: "ir-responder",
      region: "eu-west-1",
      evidenceRetention: { objectLockDays: 30, expirationDays: undefined },
    });
    expect(readFileSync(join(bin, "args"), "utf8").trim()).to.equal("stack output --json --stack prod");
  });

  it("maps errors to exit codes: EC2's denial without the action named falls back on the failed call", () => {
    const ec2Denial = Object.assign(
      new Error(
        "You are not authorized to perform this operation. Encoded authorization failure message: abc",
      ),
      {
        name: "UnauthorizedOperation",
        [FAILED_CALL]: "ec2:StopInstances",
      },
    );
    expect(explain(ec2Denial)).to.deep.include({ exitCode: EXIT.accessDenied });
    expect(explain(ec2Denial).message).to.match(
      /^access denied: your credentials may not call ec2:StopInstances/,
    );
    expect(explain(notFound("no incident x"))).to.deep.equal({
      message: "no incident x",
      exitCode: EXIT.notFound,
    });
    const throttled = Object.assign(new Error("Rate exceeded"), {
      name: "Throttling",
      [FAILED_CALL]: "sns:Publish",
    });
    expect(explain(throttled)).to.deep.equal({
      message: "Throttling (sns:Publish): Rate exceeded",
      exitCode: EXIT.failed,
    });
  });

  it("the ir bin runs the same program (ts-node): no stack found, exit 2", () => {
    const run = spawnSync(process.execPath, [join(__dirname, "..", "..", "ir", "ir.js"), "list"], {
      encoding: "utf8",
      env: { PATH: "" },
    });
    expect(run.status, run.stderr).to.equal(EXIT.usage);
    expect(run.stderr).to.contain("ir: cannot find the stack's resources");
  });

  it("--help for each command, exit 0", async () => {
    for (const command of ["list", "status", "respond", "close"]) {
      let stdout = "";
      const code = await runIr([command, "--help"], {
        stdout: { write: (text: string) => (stdout += text) },
        stderr: { write: () => true },
        env: {},
      });
      expect(code, command).to.equal(EXIT.ok);
      expect(stdout, command).to.match(new RegExp(`^Usage: ir ${command} `));
    }
  });
});
