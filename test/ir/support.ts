// What the ir tests share: an instance of the harness's account, responded to through a finding, as the scene an
// operator then works on.
import { expect } from "chai";

import { startHarness, stopDynamo, type Harness } from "../../testkit/harness";
import { operatorFor, type Operator } from "../../testkit/operator";

/**
 * A harness and an operator holding exactly the operator policy, for the tests of one describe() (its before and
 * after hooks); `env` adds to the operator's environment.
 */
export function operatorScene(env: Record<string, string> = {}): { harness: Harness; operator: Operator } {
  const scene = {} as { harness: Harness; operator: Operator };
  before(async () => {
    scene.harness = await startHarness();
    scene.operator = await operatorFor(scene.harness, { env });
  });
  after(async () => {
    await scene.harness.stop();
    await stopDynamo();
  });
  return scene;
}

export function webInstance(harness: Harness, tags: Record<string, string> = {}): string {
  const { sim, world } = harness;
  return sim.scenario.instance({
    subnetId: world.subnetA,
    securityGroupIds: [world.appGroup],
    imageId: world.kdumpImage,
    instanceProfile: world.appProfile.arn,
    dataVolumes: [{ sizeGiB: 8 }],
    tags: { Name: "web-1", ...tags },
  }).instanceId;
}

/** A finding for a new instance, responded to until the execution ends; its instance and incident. */
export async function respondedInstance(
  harness: Harness,
): Promise<{ instanceId: string; incidentId: string }> {
  const instanceId = webInstance(harness);
  const outcome = await harness.invoke(harness.sim.scenario.findingFor(instanceId, { severity: 8 }));
  expect(outcome.outcome, JSON.stringify(outcome)).to.equal("completed");
  if (!("incidentId" in outcome) || outcome.incidentId === undefined) throw new Error("no incident");
  return { instanceId, incidentId: outcome.incidentId };
}
