// Which AWS actions handler/ can call, found by the TypeScript checker (so rare branches count too).
import * as path from "path";
import * as ts from "typescript";

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
  SFN: "states",
  SecurityHub: "securityhub",
  SSM: "ssm",
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

/** Every IAM action handler/ calls through an AWS SDK client, sorted. */
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
