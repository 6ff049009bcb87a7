// ir close against the simulator, as an operator holding only the operator policy: evidence volumes off the
// workstation, the workstation stopped or (tagged as the incident's only) terminated, the closure recorded.
import { expect } from "chai";

import type { IncidentRecord } from "../../handler/incidentRecord";
import { TAG_INCIDENT } from "../../handler/tags";
import { workloadOwnerEc2 } from "../../testkit/administrator";
import { operatorScene, respondedInstance } from "./support";

describe("ir close", function () {
  this.timeout(120_000);

  const scene = operatorScene({ IR_EVIDENCE_LOCK_DAYS: "365" });

  /** A completed response and its forensic workstation (running, the evidence volumes attached). */
  const responded = async () => {
    const { instanceId, incidentId } = await respondedInstance(scene.harness);
    const record = (await scene.harness.record(instanceId)) as IncidentRecord;
    const workstationId = record.facts.forensic?.instanceId ?? "";
    const volumeIds = (record.facts.attachments ?? []).map((a) => a.volumeId);
    expect(scene.harness.sim.state.instance(workstationId)?.state).to.equal("running");
    expect(volumeIds).to.have.length.greaterThan(0);
    return { instanceId, incidentId, workstationId, volumeIds };
  };
  const attachedTo = (volumeId: string) => scene.harness.sim.state.volume(volumeId)?.attachment?.instanceId;

  it("detaches the evidence volumes, stops the workstation, records the closure and says what remains", async () => {
    const { instanceId, incidentId, workstationId, volumeIds } = await responded();

    const result = await scene.operator.ir("close", incidentId, "--wait-delay", "1");

    expect(result.code, result.stderr).to.equal(0);
    expect(scene.harness.sim.state.instance(workstationId)?.state).to.equal("stopped");
    for (const volumeId of volumeIds) expect(attachedTo(volumeId), volumeId).to.equal(undefined);
    const record = await scene.harness.record(instanceId);
    expect(record?.status).to.equal("closed");
    expect(record?.closure).to.include({ by: scene.operator.arn, workstation: "stopped" });
    const remaining = record?.closure?.remaining ?? [];
    for (const set of ["as-found", "after-stop"])
      expect(
        remaining.filter((line) =>
          new RegExp(
            `^snapshot snap-\\S+ \\(of vol-\\S+, ${set}\\): locked \\(compliance\\) until \\d{4}-`,
          ).test(line),
        ),
        set,
      ).to.have.length((record?.facts.snapshots ?? []).length);
    expect(
      remaining.some((line) => /evidence object\(s\) in s3:\/\/.*object lock 365 days/.test(line)),
    ).to.equal(true);
    expect(remaining.filter((line) => line.startsWith("volume "))).to.have.length(volumeIds.length);
    expect(result.stdout)
      .to.contain(`closed incident ${incidentId}: workstation stopped`)
      .and.to.contain("what remains:");
    expect(result.stderr).to.contain("ec2:DetachVolume").and.to.contain("ec2:StopInstances");

    const again = await scene.operator.json<{ alreadyClosed: boolean }>("close", incidentId);
    expect(again.alreadyClosed).to.equal(true);
  });

  it("--dry-run --json prints the calls and the closure it would record, and changes nothing", async () => {
    const { instanceId, incidentId, workstationId, volumeIds } = await responded();

    const result = await scene.operator.ir(
      "--dry-run",
      "--json",
      "close",
      incidentId,
      "--terminate-workstation",
    );

    expect(result.code, result.stderr).to.equal(0);
    const answer = JSON.parse(result.stdout);
    expect(answer).to.include({ incidentId, dryRun: true, alreadyClosed: false });
    expect(answer.closure.workstation).to.equal("terminated");
    for (const call of ["ec2:DetachVolume", "ec2:TerminateInstances", "dynamodb:UpdateItem"])
      expect(result.stderr).to.contain(`would call ${call}`);
    expect(scene.harness.sim.state.instance(workstationId)?.state).to.equal("running");
    for (const volumeId of volumeIds) expect(attachedTo(volumeId)).to.equal(workstationId);
    expect((await scene.harness.record(instanceId))?.status).to.equal("completed");
  });

  it("--terminate-workstation terminates this incident's tagged workstation", async () => {
    const { instanceId, incidentId, workstationId } = await responded();

    const result = await scene.operator.ir(
      "close",
      instanceId,
      "--terminate-workstation",
      "--wait-delay",
      "1",
    );

    expect(result.code, result.stderr).to.equal(0);
    expect(scene.harness.sim.state.instance(workstationId)?.state).to.be.oneOf([
      "shutting-down",
      "terminated",
    ]);
    expect((await scene.harness.record(instanceId))?.closure?.workstation).to.equal("terminated");
    expect(result.stdout).to.contain(`closed incident ${incidentId}: workstation terminated`);
  });

  it("refuses to terminate a workstation not tagged as this incident's (exit 3), changing nothing", async () => {
    const { instanceId, incidentId, workstationId, volumeIds } = await responded();
    await workloadOwnerEc2(scene.harness.sim).createTags({
      Resources: [workstationId],
      Tags: [{ Key: TAG_INCIDENT, Value: "inc-20260101T000000000Z-i-0123456789abcdef0" }],
    });

    const result = await scene.operator.ir("close", incidentId, "--terminate-workstation");

    expect(result.code).to.equal(3);
    expect(result.stderr).to.contain(
      `${workstationId} is not tagged as incident ${incidentId}'s forensic workstation`,
    );
    expect(scene.harness.sim.state.instance(workstationId)?.state).to.equal("running");
    for (const volumeId of volumeIds) expect(attachedTo(volumeId)).to.equal(workstationId);
    expect((await scene.harness.record(instanceId))?.status).to.equal("completed");
  });

  it("an unknown incident: exit 4 naming it", async () => {
    const result = await scene.operator.ir("close", "inc-20260101T000000000Z-i-0123456789abcdef0");
    expect(result.code).to.equal(4);
    expect(result.stderr).to.match(
      /^ir: no incident for inc-20260101T000000000Z-i-0123456789abcdef0 in table/,
    );
  });
});
