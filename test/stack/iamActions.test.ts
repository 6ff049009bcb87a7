// Least privilege, checked both ways: the responder's policy allows every AWS action handler/ can call (found by
// the TypeScript checker, so rare branches count too), and allows nothing handler/ never calls.
import { expect } from "chai";
import { PolicyDocument } from "../../infra/policies";
import { BASE_CONFIG, runProgram } from "../../drill/stackMockRun";
import { actionsCalledByHandler } from "./handlerCalls";

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

  it("allows every action the handler can call", () => {
    expect(called.filter((action) => !allowed.has(action))).to.deep.equal([]);
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
