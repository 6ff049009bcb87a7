// Security Hub in the loop, end to end against the simulator: the "Contain EC2 instance" custom action's event
// starts a response per instance its findings name (live check first), and the responder sets the finding's
// workflow: NOTIFIED with the incident when contained, RESOLVED with the report's location. A failed update is a
// problem, never a failed response. The pure parts (which finding, which note) are checked without AWS.
import { randomUUID } from "crypto";

import { expect } from "chai";

import { startHarness, stopDynamo, type Harness } from "../../testkit/harness";
import { acceptCustomAction } from "../../handler/acceptance/requested";
import type { CustomActionOutcome, RequestOutcome } from "../../handler/requestedResponse";
import { guardDutyFindingInSecurityHub, securityHubNote } from "../../handler/securityHub";
import { completedRecord, expectIsolated } from "./assertions";
import { isReadOnlyAction } from "../reliability/support/invariants";

const ACTION_ARN = "arn:aws:securityhub:eu-central-1:111122223333:action/custom/ContainEc2Instance";

/** A finding as Security Hub holds it (ASFF), naming the given instance ARNs. */
function asffFinding(
  instanceArns: string[],
  id = `arn:aws:guardduty:eu-central-1:111122223333:detector/d1/finding/${randomUUID().replace(/-/g, "")}`,
) {
  return {
    SchemaVersion: "2018-10-08",
    Id: id,
    ProductArn: "arn:aws:securityhub:eu-central-1::product/aws/guardduty",
    AwsAccountId: "111122223333",
    Types: ["TTPs/Command and Control/Backdoor:EC2-C&CActivity.B!DNS"],
    Title: "EC2 instance is querying a domain name associated with a known C&C server",
    Severity: { Label: "HIGH", Normalized: 70 },
    Resources: instanceArns.map((arn) => ({ Type: "AwsEc2Instance", Id: arn, Partition: "aws" })),
    Workflow: { Status: "NEW" },
  };
}

function customAction(findings: object[], account = "111122223333", region = "eu-central-1") {
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": "Security Hub Findings - Custom Action",
    source: "aws.securityhub",
    account,
    time: new Date().toISOString(),
    region,
    resources: [ACTION_ARN],
    detail: { actionName: "Contain EC2 instance", actionDescription: "Contain", findings },
  };
}

const SETTINGS = { accountId: "111122223333", region: "eu-central-1" };

describe("handler: Security Hub (pure)", () => {
  it("names a GuardDuty finding's Security Hub copy: Id the finding ARN, the GuardDuty product in its region", () => {
    expect(
      guardDutyFindingInSecurityHub({
        findingArn: "arn:aws-cn:guardduty:cn-north-1:111122223333:detector/d1/finding/f1",
      }),
    ).to.deep.equal({
      id: "arn:aws-cn:guardduty:cn-north-1:111122223333:detector/d1/finding/f1",
      productArn: "arn:aws-cn:securityhub:cn-north-1::product/aws/guardduty",
    });
    expect(guardDutyFindingInSecurityHub({})).to.equal(undefined);
  });

  it("notes name the incident (NOTIFIED) and the report (RESOLVED), within Security Hub's 512 characters", () => {
    const record = { incidentId: "inc-1-i-0123456789abcdef0", execution: undefined };
    expect(securityHubNote(record, "NOTIFIED")).to.contain("inc-1-i-0123456789abcdef0");
    expect(securityHubNote(record, "RESOLVED", "s3://b/incidents/x/report.md")).to.contain(
      "s3://b/incidents/x/report.md",
    );
    expect(securityHubNote({ incidentId: "x".repeat(600) }, "NOTIFIED")).to.have.length(512);
  });

  it("takes each AwsEc2Instance of each finding once, and refuses other accounts and regions", () => {
    const ours = "arn:aws:ec2:eu-central-1:111122223333:instance/i-0123456789abcdef0";
    const accepted = acceptCustomAction(
      customAction([
        asffFinding([ours, "arn:aws:ec2:eu-central-1:444455556666:instance/i-0aaaaaaaaaaaaaaaa"]),
        asffFinding([ours, "arn:aws:ec2:us-east-1:111122223333:instance/i-0bbbbbbbbbbbbbbbb", "i-0c"]),
      ]),
      SETTINGS,
    );
    if (!accepted.accepted) throw new Error(accepted.detail);
    expect(accepted.requests.map((request) => request.instanceId)).to.deep.equal(["i-0123456789abcdef0"]);
    expect(accepted.requests[0]!.severity).to.equal(7);
    expect(accepted.requests[0]!.trigger.kind).to.equal("security-hub");
    expect(accepted.refused.map((refused) => refused.rejection.reason)).to.deep.equal([
      "other-account",
      "other-region",
      "malformed-request",
    ]);
  });

  it("refuses an event of another account, one without instances, and a malformed one", () => {
    const arn = "arn:aws:ec2:eu-central-1:111122223333:instance/i-0123456789abcdef0";
    expect(acceptCustomAction(customAction([asffFinding([arn])], "444455556666"), SETTINGS)).to.include({
      reason: "other-account",
    });
    expect(acceptCustomAction(customAction([asffFinding([])]), SETTINGS)).to.include({
      reason: "not-an-instance-finding",
    });
    expect(acceptCustomAction(customAction([]), SETTINGS)).to.include({ reason: "malformed-request" });
    expect(
      acceptCustomAction(
        customAction([{ ...asffFinding([arn]), ProductArn: "product/aws/guardduty" }]),
        SETTINGS,
      ),
    ).to.include({ reason: "malformed-request" });
  });
});

describe("handler: Security Hub (simulator)", function () {
  this.timeout(120_000);
  let base: Harness;
  let harness: Harness;

  before(async function () {
    this.timeout(600_000); // the harness synthesizes the responder's policy (a Pulumi mock run) first
    base = await startHarness();
    // As `securityHub: true` deploys it: the handler's setting and the role's BatchUpdateFindings statement.
    harness = await base.withSettings({ SECURITY_HUB_UPDATES: "true" }, { securityHub: "true" });
  });
  after(async () => {
    await base.stop();
    await stopDynamo();
  });

  function instance() {
    const { sim, world } = harness;
    return sim.scenario.instance({
      subnetId: world.subnetA,
      securityGroupIds: [world.appGroup],
      imageId: world.kdumpImage,
      tags: { Name: "suspect" },
    });
  }

  const instanceArn = (instanceId: string) => `arn:aws:ec2:eu-central-1:111122223333:instance/${instanceId}`;

  it("a custom action contains each instance, and the finding goes NOTIFIED then RESOLVED", async () => {
    const { sim, world } = harness;
    const [one, two] = [instance(), instance()];
    const finding = asffFinding([instanceArn(one.instanceId), instanceArn(two.instanceId)]);
    const before = sim.state.securityHubUpdates().length;

    const outcome = (await harness.trigger(customAction([finding]))) as CustomActionOutcome;

    expect(outcome.outcome).to.equal("security-hub");
    expect(outcome.responses.map((response) => response.outcome)).to.deep.equal(["contained", "contained"]);
    for (const response of outcome.responses as Extract<RequestOutcome, { outcome: "contained" }>[]) {
      expect((await sim.stepFunctions.waitForExecution(response.executionArn)).status).to.equal("SUCCEEDED");
    }
    await harness.settle();

    for (const created of [one, two]) {
      expectIsolated(harness, created.instanceId, world.isolationGroup);
      const record = await completedRecord(harness, created.instanceId);
      expect(record.trigger).to.deep.include({
        kind: "security-hub",
        securityHubFinding: { id: finding.Id, productArn: finding.ProductArn },
      });
      expect(record.finding.source).to.equal("aws.securityhub");
      const updates = sim.state
        .securityHubUpdates()
        .slice(before)
        .filter((update) => update.note?.text.includes(record.incidentId));
      expect(updates.map((update) => update.workflowStatus)).to.deep.equal(["NOTIFIED", "RESOLVED"]);
      expect(updates[1]!.note!.text).to.contain(
        `s3://${world.bucket}/incidents/${record.incidentId}/report.md`,
      );
      for (const update of updates)
        expect(update).to.include({ id: finding.Id, productArn: finding.ProductArn });
    }
  });

  it("a GuardDuty finding's Security Hub copy is updated too", async () => {
    const { sim } = harness;
    const created = instance();
    const event = sim.scenario.findingFor(created.instanceId, { severity: 8 });
    const before = sim.state.securityHubUpdates().length;

    const outcome = await harness.invoke(event);
    await harness.settle();

    expect(outcome.outcome).to.equal("completed");
    const updates = sim.state.securityHubUpdates().slice(before);
    expect(updates.map((update) => update.workflowStatus)).to.deep.equal(["NOTIFIED", "RESOLVED"]);
    expect(updates[0]).to.include({
      id: (event.detail as unknown as { arn: string }).arn,
      productArn: `arn:aws:securityhub:${sim.region}::product/aws/guardduty`,
    });
  });

  it("a refused update is a problem of the response, never a failure", async () => {
    const { sim } = harness;
    const created = instance();
    sim.faults.add({
      service: "securityhub",
      action: "BatchUpdateFindings",
      fault: { type: "error", code: "InvalidAccessException", httpStatus: 401 },
    });
    try {
      const outcome = await harness.invoke(sim.scenario.findingFor(created.instanceId, { severity: 8 }));
      await harness.settle();
      expect(outcome.outcome).to.equal("completed");
    } finally {
      sim.faults.clear();
    }
    const record = await completedRecord(harness, created.instanceId);
    const problems = record.facts.problems ?? [];
    expect(problems.filter((line) => line.includes("not set to NOTIFIED"))).to.have.length(1);
    expect(problems.filter((line) => line.includes("not set to RESOLVED"))).to.have.length(1);
  });

  it("a drill is not in Security Hub: its response updates nothing there", async () => {
    const { sim, world } = harness;
    const target = sim.scenario.instance({
      subnetId: world.subnetA,
      securityGroupIds: [world.appGroup],
      imageId: world.kdumpImage,
      tags: { "ir:drill": "true" },
    });
    const before = sim.calls.length;
    const outcome = await harness.invoke(
      sim.scenario.findingFor(target.instanceId, { severity: 8, source: "ir.drill" }),
    );
    await harness.settle();
    expect(outcome.outcome).to.equal("completed");
    expect((await harness.record(target.instanceId))?.trigger).to.deep.equal({ kind: "drill" });
    expect(sim.calls.slice(before).filter((call) => call.service === "securityhub")).to.deep.equal([]);
  });

  it("instances of other accounts are refused without a change", async () => {
    const { sim } = harness;
    const before = sim.calls.length;
    const outcome = (await harness.trigger(
      customAction([asffFinding(["arn:aws:ec2:eu-central-1:444455556666:instance/i-0123456789abcdef0"])]),
    )) as CustomActionOutcome;
    expect(outcome.responses).to.have.length(1);
    expect(outcome.responses[0]).to.include({ outcome: "rejected", reason: "other-account" });
    expect(sim.calls.slice(before).filter((call) => !isReadOnlyAction(call.action))).to.deep.equal([]);
  });

  it("with the updates off (the default), Security Hub is never called", async () => {
    // A cold start as a stack without securityHub deploys it (its Tasks now reach this responder): the last test.
    const off = await base.withSettings({ SECURITY_HUB_UPDATES: "false" });
    const { sim, world } = off;
    const created = sim.scenario.instance({
      subnetId: world.subnetA,
      securityGroupIds: [world.appGroup],
      imageId: world.kdumpImage,
    });
    const before = sim.calls.length;
    const outcome = await off.invoke(sim.scenario.findingFor(created.instanceId, { severity: 8 }));
    await off.settle();
    expect(outcome.outcome).to.equal("completed");
    expect(sim.calls.slice(before).filter((call) => call.service === "securityhub")).to.deep.equal([]);
  });
});
