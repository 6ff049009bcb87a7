// Least privilege, checked both ways: the responder's policy allows every AWS action handler/ can call (found by
// the TypeScript checker, so rare branches count too), and allows nothing handler/ never calls.
import { expect } from "chai";
import * as path from "path";
import * as ts from "typescript";
import { PolicyDocument } from "../../infra/policies";
import { BASE_CONFIG, runProgram } from "../../drill/stackMockRun";

const HANDLER = path.join(__dirname, "..", "..", "handler");

/** SDK client class -> IAM service prefix. */
const CLIENT_SERVICES: Record<string, string> = {
  EC2: "ec2",
  AutoScaling: "autoscaling",
  ElasticLoadBalancingV2: "elasticloadbalancing",
  IAM: "iam",
  S3: "s3",
  SNS: "sns",
  Lambda: "lambda",
  DynamoDBDocument: "dynamodb",
};
/** Where the SDK method's name is not the IAM action's. */
const ACTION_NAMES: Record<string, string> = {
  "lambda:Invoke": "lambda:InvokeFunction",
  "dynamodb:Get": "dynamodb:GetItem",
  "dynamodb:Put": "dynamodb:PutItem",
  "dynamodb:Update": "dynamodb:UpdateItem",
  "dynamodb:Delete": "dynamodb:DeleteItem",
  "dynamodb:Query": "dynamodb:Query",
};
/** Client members that are not AWS operations (DynamoDBDocument.from builds the client). */
const NOT_OPERATIONS = new Set(["send", "destroy", "middlewareStack", "config", "from"]);

export function actionsCalledByHandler(): string[] {
  const program = ts.createProgram({
    rootNames: ts.sys.readDirectory(HANDLER, [".ts"]),
    options: {
      strict: true,
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      skipLibCheck: true,
    },
  });
  const checker = program.getTypeChecker();
  const actions = new Set<string>();
  for (const file of program.getSourceFiles()) {
    if (!file.fileName.startsWith(HANDLER)) continue;
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
        const receiver = checker.getTypeAtLocation(node.expression.expression);
        const className = receiver.getSymbol()?.getName() ?? "";
        const service = CLIENT_SERVICES[className];
        const method = node.expression.name.text;
        if (service && !NOT_OPERATIONS.has(method)) {
          const action = `${service}:${method[0]?.toUpperCase()}${method.slice(1)}`;
          actions.add(ACTION_NAMES[action] ?? action);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(file);
  }
  return [...actions].sort();
}

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
