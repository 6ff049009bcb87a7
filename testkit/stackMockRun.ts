// Runs the Pulumi program (index.ts) in Pulumi's unit-test mode and records what it would create: the stack tests
// assert on it, and the drill takes the Lambda artifact from it (no Pulumi CLI or cloud is needed for either).
// Every provider function the program calls must be mocked here: an unmocked call fails the run.
import * as pulumi from "@pulumi/pulumi";
import { PROJECT } from "../infra/config";

export const ACCOUNT_ID = "111122223333";
export const REGION = "eu-central-1";
/** The key every mocked KMS alias points to (aws.kms.getAlias). */
export const ALIAS_TARGET_KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0`;
export const POWERTOOLS_LAYER = `arn:aws:lambda:${REGION}:094274105915:layer:AWSLambdaPowertoolsTypeScriptV2:44`;

export interface RegisteredResource {
  type: string;
  name: string;
  custom: boolean;
  // Resource inputs are untyped by nature; tests read the fields they assert on.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  inputs: Record<string, any>;
  /** The state the mock returned (inputs plus fake id/arn/name): what dependents see. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  state: Record<string, any>;
  retainOnDelete: boolean;
  protect: boolean;
}

export interface ProgramRun {
  resources: RegisteredResource[];
  outputs: Record<string, unknown>;
  calls: { token: string; inputs: Record<string, unknown> }[];
  ofType(type: string): RegisteredResource[];
  one(type: string, nameIncludes?: string): RegisteredResource;
}

const MOCKED_CALLS: Record<string, (inputs: Record<string, unknown>) => Record<string, unknown>> = {
  "aws:index/getCallerIdentity:getCallerIdentity": () => ({
    accountId: ACCOUNT_ID,
    arn: `arn:aws:iam::${ACCOUNT_ID}:user/deployer`,
    userId: "AIDAEXAMPLE",
    id: ACCOUNT_ID,
  }),
  "aws:index/getPartition:getPartition": () => ({ partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" }),
  // An alias of this account and region, by name (what the provider looks up).
  "aws:kms/getAlias:getAlias": (inputs) => ({
    id: `arn:aws:kms:${REGION}:${ACCOUNT_ID}:${String(inputs.name)}`,
    arn: `arn:aws:kms:${REGION}:${ACCOUNT_ID}:${String(inputs.name)}`,
    name: inputs.name,
    targetKeyArn: ALIAS_TARGET_KEY_ARN,
    targetKeyId: ALIAS_TARGET_KEY_ARN.split("/")[1],
  }),
  "aws:ssm/getParameter:getParameter": (inputs) => ({
    name: inputs.name,
    value: POWERTOOLS_LAYER,
    type: "String",
    id: inputs.name,
  }),
};

/** A plausible ARN for a mocked resource, so policies built from it read like real ones. */
function fakeArn(type: string, physicalName: string): string {
  const [, module = "x", kind = "x"] = /^aws:([^/]+)\/([^:]+):/.exec(type) ?? [];
  const service =
    module === "cloudwatch" && kind.startsWith("event")
      ? "events"
      : module === "cloudwatch"
        ? "logs"
        : module;
  if (service === "iam")
    return `arn:aws:iam::${ACCOUNT_ID}:${kind === "instanceProfile" ? "instance-profile" : kind}/${physicalName}`;
  if (service === "s3") return `arn:aws:s3:::${physicalName}`;
  if (service === "sqs" || service === "sns")
    return `arn:aws:${service}:${REGION}:${ACCOUNT_ID}:${physicalName}`;
  if (service === "logs") return `arn:aws:logs:${REGION}:${ACCOUNT_ID}:log-group:${physicalName}`;
  if (service === "lambda") return `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${physicalName}`;
  if (service === "events") return `arn:aws:events:${REGION}:${ACCOUNT_ID}:rule/${physicalName}`;
  return `arn:aws:${service}:${REGION}:${ACCOUNT_ID}:${kind.toLowerCase()}/${physicalName}`;
}

/** Stack config in the form `pulumi config` stores it; bare keys belong to the project namespace. */
export function stackConfig(values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).map(([key, value]) => [key.includes(":") ? key : `${PROJECT}:${key}`, value]),
  );
}

export const BASE_CONFIG = stackConfig({
  "aws:region": REGION,
  forensicAmiId: "ami-0a1b2c3d4e5f60718",
  vpcIds: '["vpc-0123456789abcdef0","vpc-0fedcba9876543210"]',
  forensicSourceCidrs: '["10.20.250.0/24"]',
  forensicSubnets: '{"eu-central-1a":"subnet-0aa11bb22cc33dd44"}',
  notificationEmail: "soc@example.com",
});

/**
 * Runs index.ts against mocks with the given stack config. The program module is loaded afresh each time, after
 * setMocks (imported earlier, its outputs would never resolve).
 */
export async function runProgram(config: Record<string, string>): Promise<ProgramRun> {
  const resources: RegisteredResource[] = [];
  const calls: ProgramRun["calls"] = [];
  const options = new Map<string, { retainOnDelete: boolean; protect: boolean }>();

  pulumi.runtime.setAllConfig(config);
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const inputs = args.inputs as Record<string, unknown>;
        const physicalName = typeof inputs.name === "string" ? inputs.name : `${args.name}-7f3a`;
        const id = `${physicalName}-id`;
        // Inputs are spread last so the mock's made-up values never hide what the program asked for.
        const arn = fakeArn(args.type, physicalName);
        // A function created with publish: true has a version (the first is 1) and a qualified ARN, as Lambda answers.
        const published = args.type === "aws:lambda/function:Function" && inputs.publish === true;
        const state = {
          id,
          name: physicalName,
          arn,
          bucket: physicalName,
          url: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT_ID}/${physicalName}`,
          ...(published ? { version: "1", qualifiedArn: `${arn}:1` } : {}),
          ...inputs,
        };
        const opts = options.get(`${args.type}::${args.name}`) ?? { retainOnDelete: false, protect: false };
        resources.push({
          type: args.type,
          name: args.name,
          custom: args.custom ?? false,
          inputs,
          state,
          ...opts,
        });
        return { id, state };
      },
      call(args) {
        const inputs = args.inputs as Record<string, unknown>;
        const mock = MOCKED_CALLS[args.token];
        if (!mock) throw new Error(`the program called ${args.token}, which the test does not mock`);
        calls.push({ token: args.token, inputs });
        return mock(inputs);
      },
    },
    PROJECT,
    "dev",
    false,
  );

  // Resource options (retainOnDelete, protect) never reach Mocks.newResource; read them off the request.
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource(req: RegisterRequest, callback: unknown): unknown;
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    options.set(`${req.getType()}::${req.getName()}`, {
      retainOnDelete: req.getRetainondelete(),
      protect: req.getProtect(),
    });
    return register(req, callback);
  };

  const programPath = require.resolve("../index");
  delete require.cache[programPath];
  const program = require(programPath) as Record<string, unknown>;
  const outputs: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(program)) {
    // Exports are strings, maps and lists alike; only their resolved values matter here.
    outputs[name] = await new Promise((resolve) =>
      pulumi.output(value as pulumi.Input<string>).apply(resolve),
    );
  }
  // Every registration (including resources whose inputs wait on other outputs) has reached the mocks.
  await (require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> }).waitForRPCs();

  const ofType = (type: string) => resources.filter((r) => r.type === type);
  return {
    resources,
    outputs,
    calls,
    ofType,
    one(type, nameIncludes) {
      const matching = ofType(type).filter(
        (r) => nameIncludes === undefined || r.name.includes(nameIncludes),
      );
      if (matching.length !== 1) {
        throw new Error(
          `expected one ${type}${nameIncludes ? ` named *${nameIncludes}*` : ""}, found ${matching.length}`,
        );
      }
      return matching[0] as RegisteredResource;
    },
  };
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getRetainondelete(): boolean;
  getProtect(): boolean;
}
