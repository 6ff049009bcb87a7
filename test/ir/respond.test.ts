// ir respond against the simulator, as an operator holding only the operator policy: the responder function is
// invoked with the caller's identity and reason, and the execution followed.
import { expect } from "chai";

import { DEFAULT_EXCLUSION_TAG } from "../../handler/tags";
import { operatorScene, respondedInstance, webInstance } from "./support";

describe("ir respond", function () {
  this.timeout(120_000);

  const scene = operatorScene();
  /** ir respond, following the execution with a short wait between looks. */
  const respondAndFollow = (instanceId: string, reason: string, ...options: string[]) =>
    scene.operator.ir("respond", instanceId, "--reason", reason, ...options, "--wait-delay", "0.05");

  it("contains the instance, records the caller and the reason, and follows the execution to its end", async () => {
    const instanceId = webInstance(scene.harness);
    const result = await respondAndFollow(instanceId, "beaconing to a known C2");

    expect(result.code, result.stderr).to.equal(0);
    const record = await scene.harness.record(instanceId);
    expect(record?.status).to.equal("completed");
    expect(record?.trigger).to.deep.include({
      kind: "manual",
      requestedBy: scene.operator.arn,
      reason: "beaconing to a known C2",
    });
    expect(record?.trigger?.overrideExclusion ?? false).to.equal(false);
    expect(result.stderr).to.contain(`contained: incident ${record?.incidentId}`);
    expect(result.stderr)
      .to.match(/✔ isolateNetwork/)
      .and.to.match(/✔ report/);
    expect(result.stdout.trim()).to.equal(`incident ${record?.incidentId}: completed, execution SUCCEEDED`);
  });

  it("an instance already responded to: already-responding, exit 0, with the incident", async () => {
    const { instanceId, incidentId } = await respondedInstance(scene.harness);
    const answer = await scene.operator.json("respond", instanceId, "--reason", "again");
    expect(answer).to.include({ outcome: "already-responding", instanceId, incidentId });
    const human = await scene.operator.ir("respond", instanceId, "--reason", "again");
    expect(human.code, human.stderr).to.equal(0);
    expect(human.stdout).to.match(new RegExp(`^already responding: incident ${incidentId} is complete`));
  });

  it("--json --no-wait answers with the incident as soon as the instance is contained", async () => {
    const instanceId = webInstance(scene.harness);
    const answer = await scene.operator.json("respond", instanceId, "--reason", "suspicious", "--no-wait");
    expect(answer).to.include({ outcome: "contained", instanceId });
    expect(answer.incidentId).to.be.a("string").and.to.contain(instanceId);
    await scene.harness.settle();
  });

  it("refuses an excluded instance with the reason (exit 3), and responds with --override-exclusion (recorded)", async () => {
    const instanceId = webInstance(scene.harness, { [DEFAULT_EXCLUSION_TAG]: "true" });

    const rejected = await scene.operator.ir("respond", instanceId, "--reason", "suspicious");
    expect(rejected.code, rejected.stderr).to.equal(3);
    expect(rejected.stdout).to.match(/^rejected: .*exclu/i);
    expect(await scene.harness.record(instanceId)).to.equal(undefined);

    const overridden = await respondAndFollow(
      instanceId,
      "owner confirmed compromise",
      "--override-exclusion",
    );
    expect(overridden.code, overridden.stderr).to.equal(0);
    const record = await scene.harness.record(instanceId);
    expect(record?.trigger).to.deep.include({
      kind: "manual",
      overrideExclusion: true,
      requestedBy: scene.operator.arn,
    });
  });

  it("--dry-run prints the invocation and changes nothing", async () => {
    const instanceId = webInstance(scene.harness);
    const invocations = scene.harness.sim.state.invocations().length;
    const result = await scene.operator.ir("--dry-run", "respond", instanceId, "--reason", "checking");
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stderr)
      .to.contain("would call lambda:InvokeFunction ir-responder")
      .and.to.contain(instanceId);
    expect(scene.harness.sim.state.invocations()).to.have.length(invocations);
    expect(await scene.harness.record(instanceId)).to.equal(undefined);
  });

  it("an instance that does not exist: exit 4; another account's or region's: refused before any call (exit 3)", async () => {
    const missing = await scene.operator.ir("respond", "i-0123456789abcdef0", "--reason", "x");
    expect(missing.code, missing.stderr).to.equal(4);
    expect(missing.stdout).to.match(/rejected: .*i-0123456789abcdef0/);

    const calls = scene.harness.sim.calls.length;
    const elsewhere = await scene.operator.ir(
      "respond",
      "arn:aws:ec2:us-east-1:444455556666:instance/i-0123456789abcdef0",
      "--reason",
      "x",
    );
    expect(elsewhere.code).to.equal(3);
    expect(elsewhere.stderr).to.contain("is in account 444455556666, region us-east-1");
    expect(scene.harness.sim.calls.length).to.equal(calls);
  });

  it("usage errors exit 2 (no --reason)", async () => {
    const result = await scene.operator.ir("respond", "i-0123456789abcdef0");
    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain("--reason");
  });
});
