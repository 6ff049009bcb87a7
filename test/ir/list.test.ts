// ir list against the simulator, as an operator holding only the operator policy.
import { expect } from "chai";

import { operatorScene, respondedInstance } from "./support";

describe("ir list", function () {
  this.timeout(120_000);

  const scene = operatorScene();

  it("says so when there are no incidents", async () => {
    const result = await scene.operator.ir("list");
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.match(/^no incidents in incidents-/);
  });

  it("lists incidents newest first with trigger, isolation time and the execution's status", async () => {
    const first = await respondedInstance(scene.harness);
    const second = await respondedInstance(scene.harness);

    const { incidents } = await scene.operator.json<{ incidents: Record<string, unknown>[] }>("list");
    expect(incidents.map((i) => i.incidentId)).to.deep.equal([second.incidentId, first.incidentId]);
    expect(incidents[0]).to.include({
      instanceId: second.instanceId,
      status: "completed",
      dryRun: false,
      trigger: "guardduty",
      executionStatus: "SUCCEEDED",
    });
    expect(incidents[0]?.isolatedAfterSeconds).to.be.a("number").and.to.be.greaterThan(0);

    const human = await scene.operator.ir("list");
    expect(human.code, human.stderr).to.equal(0);
    const lines = human.stdout.trim().split("\n");
    expect(lines[0]).to.match(
      /^INCIDENT\s+INSTANCE\s+STATUS\s+TRIGGER\s+STARTED\s+ISOLATED AFTER\s+EXECUTION$/,
    );
    expect(lines[1])
      .to.contain(second.incidentId)
      .and.to.contain("SUCCEEDED")
      .and.to.match(/\d+\.\d s/);
    expect(lines).to.have.length(3);
  });
});
