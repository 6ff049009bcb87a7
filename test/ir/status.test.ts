// ir status against the simulator, as an operator holding only the operator policy.
import { expect } from "chai";

import type { IncidentStatusView } from "../../ir/commands/status";
import { operatorScene, respondedInstance } from "./support";

describe("ir status", function () {
  this.timeout(120_000);
  let instanceId: string;
  let incidentId: string;

  const scene = operatorScene();
  before(async () => {
    ({ instanceId, incidentId } = await respondedInstance(scene.harness));
  });

  it("--json: state, timeline, evidence, workstation and execution, by incident id or instance id", async () => {
    const byIncident = await scene.operator.json<IncidentStatusView>("status", incidentId);
    const byInstance = await scene.operator.json<IncidentStatusView>("status", instanceId);
    const byArn = await scene.operator.json<IncidentStatusView>(
      "status",
      `arn:aws:ec2:${scene.harness.sim.region}:${scene.harness.sim.accountId}:instance/${instanceId}`,
    );
    expect(byInstance).to.deep.equal(byIncident);
    expect(byArn).to.deep.equal(byIncident);

    const record = await scene.harness.record(instanceId);
    expect(byIncident).to.include({ incidentId, instanceId, status: "completed", dryRun: false });
    expect(byIncident.trigger).to.deep.include({ kind: "guardduty" });
    expect(byIncident.timeline.map((t) => t.step)).to.include.members([
      "isolateNetwork",
      "snapshotVolumes",
      "report",
    ]);
    expect(byIncident.timeline.every((t) => t.status === "done" || t.status === "skipped")).to.equal(true);
    expect(byIncident.evidence.snapshots.map((s) => [s.set, s.snapshotId])).to.deep.equal([
      ...(record?.facts.asFoundSnapshots ?? []).map((s) => ["as-found", s.snapshotId]),
      ...(record?.facts.snapshots ?? []).map((s) => ["after-stop", s.snapshotId]),
    ]);
    expect(byIncident.evidence.snapshots.every((s) => s.locked)).to.equal(true);
    expect(byIncident.evidence.objects.map((o) => o.kind)).to.include("finding");
    expect(byIncident.evidence.report?.markdownKey).to.be.a("string");
    expect(byIncident.workstation).to.deep.include({
      instanceId: record?.facts.forensic?.instanceId,
      state: "running",
    });
    expect(byIncident.workstation?.volumes).to.have.length(record?.facts.attachments?.length ?? -1);
    expect(byIncident.execution).to.include({ arn: record?.execution?.arn, status: "SUCCEEDED" });
    expect(byIncident.problems).to.deep.equal(record?.facts.problems ?? []);
    expect(byIncident.release).to.equal(null);
    expect(byIncident.closure).to.equal(null);
  });

  it("human output: the same, readable", async () => {
    const result = await scene.operator.ir("status", incidentId);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.match(new RegExp(`^incident   ${incidentId}\n`));
    expect(result.stdout).to.contain("state      completed").and.to.contain("trigger    guardduty");
    expect(result.stdout).to.match(/execution {2}SUCCEEDED arn:aws:states:/);
    expect(result.stdout).to.match(/\n {2}isolateNetwork\s+done\s/);
    expect(result.stdout).to.match(
      /\n {2}snapshot snap-\S+ of vol-\S+, as-found \(locked\)\n(.*\n)* {2}snapshot snap-\S+ of vol-\S+, after-stop \(locked\)/,
    );
    expect(result.stdout).to.match(/forensic workstation i-\S+ \(running\), volumes: vol-/);
  });

  it("unknown incidents and instances: exit 4; malformed references: exit 2; other accounts: exit 3", async () => {
    const unknownIncident = await scene.operator.ir("status", "inc-20260101T000000000Z-i-0123456789abcdef0");
    expect(unknownIncident.code).to.equal(4);
    expect(unknownIncident.stderr).to.contain("no incident for inc-20260101T000000000Z-i-0123456789abcdef0");

    const olderIncident = await scene.operator.ir("status", incidentId.replace(/^inc-\d{8}/, "inc-20200101"));
    expect(olderIncident.code).to.equal(4);
    expect(olderIncident.stderr).to.contain(`${instanceId}'s incident is ${incidentId}`);

    expect((await scene.operator.ir("status", "i-0123456789abcdef0")).code).to.equal(4);
    expect((await scene.operator.ir("status", "web-1")).code).to.equal(2);
    const elsewhere = await scene.operator.ir(
      "status",
      `arn:aws:ec2:us-west-2:${scene.harness.sim.accountId}:instance/${instanceId}`,
    );
    expect(elsewhere.code).to.equal(3);
    expect(elsewhere.stderr).to.contain("region us-west-2");
  });
});
