// `npm run drill -- --live` pointed at the simulator through the SDK's standard settings alone (AWS_ENDPOINT_URL,
// AWS_REGION, credentials), as it would be pointed at an account.
import { expect } from "chai";
import { DrillRefusedError } from "../../drill/drillFinding";
import { runLiveDrill } from "../../drill/liveDrill";
import { DEFAULT_DRILL_OPTIONS, LocalStack, startLocalStack } from "../../drill/runDrill";

describe("live drill (against the simulator, configured like an account)", function () {
  this.timeout(240_000);
  let local: LocalStack;
  const saved = { ...process.env };

  before(async () => {
    local = await startLocalStack({ ...DEFAULT_DRILL_OPTIONS, timeScale: 25 });
    Object.assign(process.env, local.sim.env(), { AWS_ENDPOINT_URL_DYNAMODB: local.dynamo.endpoint });
  });
  after(async () => {
    process.env = saved;
    await local.stop();
  });

  it("puts the finding on the bus, the stack's rule delivers it, and the response completes", async () => {
    const result = await runLiveDrill({
      instanceId: local.workload.compromised,
      incidentTable: local.stack.tableName,
      wallLimitMs: 180_000,
    });
    expect(result.status).to.equal("completed");
    expect(result.milestones.isolated).to.be.a("number");
    expect(result.steps.find((s) => s.name === "isolateNetwork")?.status).to.equal("done");
    expect(local.sim.events.delivered().map((d) => d.event.source)).to.deep.equal(["ir.drill"]);
  });

  it("refuses an instance that is not tagged ir:drill=true, and puts nothing on the bus", async () => {
    const subnetId = local.sim.state.subnets()[0]!.subnetId;
    const untagged = local.sim.scenario.instance({ subnetId }).instanceId;
    const delivered = local.sim.events.delivered().length;
    const error = await runLiveDrill({
      instanceId: untagged,
      incidentTable: local.stack.tableName,
      wallLimitMs: 1000,
    }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(DrillRefusedError);
    expect(String(error)).to.match(/not a drill target: tag it ir:drill=true/);
    expect(local.sim.events.delivered()).to.have.length(delivered);
  });
});
