// Least privilege, checked both ways: the responder's policy allows every AWS action handler/ can call (found by
// the TypeScript checker, so rare branches count too), and allows nothing handler/ never calls; the workflow's role
// allows what its definition's Tasks call, and nothing else but log delivery and the topic's key.
import { expect } from "chai";
import type { PolicyDocument } from "../../infra/policies";
import { LOG_DELIVERY_ACTIONS } from "../../infra/workflowPolicy";
import { LAMBDA_INVOKE, SNS_PUBLISH, type Branch, type State } from "../../infra/stateLanguage";
import { BASE_CONFIG, runProgram, stackConfig } from "../../testkit/stackMockRun";
import { actionsCalledByHandler } from "./handlerCalls";
import { decide, fullStackRun, workflowPolicyOf } from "./policySimulation";

/** Actions the handler calls only when a stack config key (off in BASE_CONFIG) turns them on. */
const BEHIND_CONFIG: Record<string, string> = { "securityhub:BatchUpdateFindings": "securityHub" };

describe("responder IAM policy vs. the calls handler/ makes", function () {
  this.timeout(120_000);
  let called: string[];
  let allowed: Set<string>;

  before(async () => {
    called = actionsCalledByHandler();
    const run = await runProgram(BASE_CONFIG);
    const policy = JSON.parse(
      run.one("aws:iam/rolePolicy:RolePolicy", "ir-policy").inputs.policy as string,
    ) as PolicyDocument;
    allowed = new Set(policy.Statement.filter((s) => s.Effect === "Allow").flatMap((s) => s.Action));
  });

  it("finds the handler's calls (the analysis itself works)", () => {
    expect(called).to.include.members([
      "ec2:ModifyNetworkInterfaceAttribute",
      "ec2:CreateSnapshots",
      "dynamodb:PutItem",
    ]);
    expect(called.length).to.be.above(30);
  });

  it("the handler hands the response to the workflow, and no longer invokes itself", () => {
    expect(called).to.include("states:StartExecution");
    expect(called).not.to.include("lambda:InvokeFunction");
    expect(allowed.has("lambda:InvokeFunction")).to.equal(false);
  });

  it("allows every action the handler can call (those behind an off config key once it is on)", async () => {
    expect(called.filter((action) => !allowed.has(action) && !(action in BEHIND_CONFIG))).to.deep.equal([]);
    for (const [action, key] of Object.entries(BEHIND_CONFIG)) {
      expect(allowed.has(action), `${action} with ${key} off`).to.equal(false);
      const run = await runProgram({ ...BASE_CONFIG, ...stackConfig({ [key]: "true" }) });
      const policy = JSON.parse(
        run.one("aws:iam/rolePolicy:RolePolicy", "ir-policy").inputs.policy as string,
      ) as PolicyDocument;
      const on = policy.Statement.filter((s) => s.Effect === "Allow").flatMap((s) => s.Action);
      expect(on, `${action} with ${key} on`).to.include(action);
    }
  });

  it("allows nothing the handler never calls (besides logs, dead letters, and roles handed to EC2)", () => {
    // Lambda writes logs and dead letters with the function's role; EC2 checks iam:PassRole when RunInstances or
    // an instance-profile association hands over a role.
    const platform = new Set([
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "sqs:SendMessage",
      "iam:PassRole",
    ]);
    expect([...allowed].filter((action) => !called.includes(action) && !platform.has(action))).to.deep.equal(
      [],
    );
  });
});

/** The IAM action and resource of each Task the definition runs, by its service integration. */
function taskCalls(branch: Branch): { state: string; action: string; resource: string }[] {
  return Object.entries(branch.States).flatMap(([name, state]: [string, State]) => {
    const nested = (state.Branches ?? []).flatMap(taskCalls);
    if (state.Type !== "Task") return nested;
    const parameters = state.Parameters ?? {};
    if (state.Resource === LAMBDA_INVOKE)
      return [
        ...nested,
        { state: name, action: "lambda:InvokeFunction", resource: parameters.FunctionName as string },
      ];
    if (state.Resource === SNS_PUBLISH)
      return [...nested, { state: name, action: "sns:Publish", resource: parameters.TopicArn as string }];
    throw new Error(`${name}: an integration this test does not know (${String(state.Resource)})`);
  });
}

describe("workflow IAM policy vs. the Tasks its definition runs", function () {
  this.timeout(120_000);

  it("allows each Task's call on the resource it names, and nothing else but log delivery and the topic's key", async () => {
    const run = await fullStackRun();
    const definition = JSON.parse(
      run.one("aws:sfn/stateMachine:StateMachine").inputs.definition as string,
    ) as Branch;
    const calls = taskCalls(definition);
    expect(calls.length).to.be.above(16);
    const policy = workflowPolicyOf(run);
    const session = "arn:aws:sts::111122223333:assumed-role/ir-workflow-role/execution";
    const refused: string[] = [];
    for (const call of calls) {
      const { verdict } = await decide(policy, call.action, call.resource, {}, session);
      if (verdict !== "Allowed")
        refused.push(`${call.state}: ${call.action} on ${call.resource}: ${verdict}`);
    }
    expect(refused).to.deep.equal([]);
    const allowed = new Set(policy.Statement.filter((s) => s.Effect === "Allow").flatMap((s) => s.Action));
    const needed = new Set([
      ...calls.map((call) => call.action),
      ...LOG_DELIVERY_ACTIONS,
      // SNS encrypts under the topic's key with the publisher's permissions (the full stack's topic has one).
      "kms:GenerateDataKey",
      "kms:Decrypt",
    ]);
    expect([...allowed].filter((action) => !needed.has(action))).to.deep.equal([]);
    expect([...needed].filter((action) => !allowed.has(action))).to.deep.equal([]);
  });
});
