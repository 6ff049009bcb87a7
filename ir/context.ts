// What every command starts from: the stack's resources (from `pulumi stack output --json` where the Pulumi CLI
// is installed, else flags and IR_* environment variables), SDK clients signed with the caller's own credentials,
// and the output. Flags win over the environment, which wins over the stack's outputs.
import { spawnSync } from "node:child_process";

import { AutoScaling } from "@aws-sdk/client-auto-scaling";
import { DynamoDB } from "@aws-sdk/client-dynamodb";
import { EC2 } from "@aws-sdk/client-ec2";
import { ElasticLoadBalancingV2 } from "@aws-sdk/client-elastic-load-balancing-v2";
import { GuardDuty } from "@aws-sdk/client-guardduty";
import { IAM } from "@aws-sdk/client-iam";
import { Lambda } from "@aws-sdk/client-lambda";
import { S3 } from "@aws-sdk/client-s3";
import { SecurityHub } from "@aws-sdk/client-securityhub";
import { SFN } from "@aws-sdk/client-sfn";
import { SNS } from "@aws-sdk/client-sns";
import { STS } from "@aws-sdk/client-sts";
import { DynamoDBDocument } from "@aws-sdk/lib-dynamodb";

import { FAILED_CALL, usage } from "./exitCodes";
import { Output, type Io } from "./output";

/** The deployed stack's resources the commands use. */
export interface StackResources {
  incidentTableName: string;
  stateMachineArn: string;
  evidenceBucketName: string;
  notificationTopicArn: string;
  responderFunctionName: string;
  region: string;
  /**
   * Evidence objects' retention as the stack configures it (stack output evidenceRetention, or IR_EVIDENCE_LOCK_DAYS
   * and IR_EVIDENCE_EXPIRATION_DAYS); absent when not known. Days unset: no object lock, no expiration.
   */
  evidenceRetention?: { objectLockDays?: number; expirationDays?: number };
}

/** The global options (ir/cli.ts declares them). */
export interface GlobalOptions {
  json?: boolean;
  dryRun?: boolean;
  region?: string;
  stack?: string;
  incidentTable?: string;
  stateMachineArn?: string;
  evidenceBucket?: string;
  topicArn?: string;
  responderFunction?: string;
}

interface OperatorClients {
  documents: DynamoDBDocument;
  ec2: EC2;
  sfn: SFN;
  s3: S3;
  lambda: Lambda;
  sts: STS;
  sns: SNS;
  iam: IAM;
  elbv2: ElasticLoadBalancingV2;
  autoScaling: AutoScaling;
  guardDuty: GuardDuty;
  securityHub: SecurityHub;
}

export interface OperatorContext {
  resources: StackResources;
  clients: OperatorClients;
  output: Output;
  region: string;
  /** The stack's account (from its state machine's ARN). */
  accountId: string;
  dryRun: boolean;
  /**
   * A change to AWS: with --dry-run, printed as the call it would make and skipped (undefined); otherwise made,
   * with a progress line.
   */
  change<T>(call: string, detail: unknown, make: () => Promise<T>): Promise<T | undefined>;
}

/** Stack output name -> the resource it gives (index.ts exports these). */
const STACK_OUTPUTS = {
  incidentTable: "incidentTableName",
  stateMachineArn: "stateMachineArn",
  evidenceBucket: "evidenceBucketName",
  notificationTopicArn: "notificationTopicArn",
  responderFunctionName: "responderFunctionName",
} as const satisfies Record<string, keyof StackResources>;

/** Flag (GlobalOptions), environment variable, and the resource each sets. */
const SOURCES: [flag: keyof GlobalOptions, env: string, resource: keyof StackResources][] = [
  ["incidentTable", "IR_INCIDENT_TABLE", "incidentTableName"],
  ["stateMachineArn", "IR_STATE_MACHINE_ARN", "stateMachineArn"],
  ["evidenceBucket", "IR_EVIDENCE_BUCKET", "evidenceBucketName"],
  ["topicArn", "IR_TOPIC_ARN", "notificationTopicArn"],
  ["responderFunction", "IR_RESPONDER_FUNCTION", "responderFunctionName"],
  ["region", "IR_REGION", "region"],
];

/** The stack's outputs from the Pulumi CLI, or undefined where it is not installed. */
function pulumiStackOutputs(stack: string | undefined, env: Io["env"]): Record<string, unknown> | undefined {
  const args = ["stack", "output", "--json", ...(stack === undefined ? [] : ["--stack", stack])];
  const run = spawnSync("pulumi", args, { encoding: "utf8", env: { ...env } });
  const error: NodeJS.ErrnoException | undefined = run.error;
  if (error?.code === "ENOENT") return undefined;
  if (run.status !== 0) throw usage(`pulumi stack output failed: ${run.stderr.trim() || run.error?.message}`);
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

export function stackResources(options: GlobalOptions, env: Io["env"]): StackResources {
  const outputs = pulumiStackOutputs(options.stack, env) ?? {};
  const found: Partial<Record<keyof StackResources, unknown>> = {};
  for (const [output, resource] of Object.entries(STACK_OUTPUTS)) found[resource] = outputs[output];
  for (const [flag, variable, resource] of SOURCES)
    found[resource] = options[flag] ?? env[variable] ?? found[resource];
  const arnRegion =
    typeof found.stateMachineArn === "string" ? found.stateMachineArn.split(":")[3] : undefined;
  found.region ??= env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? arnRegion;
  const missing = SOURCES.filter(
    ([, , resource]) => typeof found[resource] !== "string" || found[resource] === "",
  );
  if (missing.length > 0) {
    const how = missing.map(([flag, variable]) => `--${kebab(flag)} or ${variable}`).join(", ");
    throw usage(`cannot find the stack's resources (no Pulumi CLI or stack output): give ${how}`);
  }
  return { ...(found as StackResources), ...evidenceRetentionOf(outputs, env) };
}

/** The stack output evidenceRetention, or IR_EVIDENCE_LOCK_DAYS / IR_EVIDENCE_EXPIRATION_DAYS. */
function evidenceRetentionOf(outputs: Record<string, unknown>, env: Io["env"]): Partial<StackResources> {
  const output = (outputs.evidenceRetention ?? {}) as NonNullable<StackResources["evidenceRetention"]>;
  const days = (value: string | undefined, fallback: number | undefined) =>
    value === undefined || value === "" ? fallback : Number(value);
  const retention = {
    objectLockDays: days(env.IR_EVIDENCE_LOCK_DAYS, output.objectLockDays),
    expirationDays: days(env.IR_EVIDENCE_EXPIRATION_DAYS, output.expirationDays),
  };
  const known = retention.objectLockDays !== undefined || retention.expirationDays !== undefined;
  return known || outputs.evidenceRetention !== undefined ? { evidenceRetention: retention } : {};
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

/** IAM's service prefix for an SDK client, and the action names that differ from the SDK's command names. */
const SERVICE_PREFIX: Record<string, string> = {
  EC2Client: "ec2",
  DynamoDBClient: "dynamodb",
  SFNClient: "states",
  S3Client: "s3",
  LambdaClient: "lambda",
  STSClient: "sts",
  SNSClient: "sns",
  IAMClient: "iam",
  ElasticLoadBalancingV2Client: "elasticloadbalancing",
  AutoScalingClient: "autoscaling",
  GuardDutyClient: "guardduty",
  SecurityHubClient: "securityhub",
};
const ACTION_NAME: Record<string, string> = {
  Invoke: "InvokeFunction",
  Get: "GetItem",
  Put: "PutItem",
  Update: "UpdateItem",
};

interface HasMiddleware {
  middlewareStack: { add(middleware: unknown, options: { step: "initialize"; name: string }): void };
}

/** Names the failing call on any error a client throws (e.g. ec2:StopInstances), for the error message. */
function nameFailedCalls<T>(client: T): T {
  (client as HasMiddleware).middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>, context: { clientName?: string; commandName?: string }) =>
      async (args: unknown) => {
        try {
          return await next(args);
        } catch (error) {
          const command = (context.commandName ?? "").replace(/Command$/, "");
          const prefix = SERVICE_PREFIX[context.clientName ?? ""] ?? context.clientName;
          if (typeof error === "object" && error !== null)
            Object.assign(error, { [FAILED_CALL]: `${prefix}:${ACTION_NAME[command] ?? command}` });
          throw error;
        }
      },
    { step: "initialize", name: "irNameFailedCall" },
  );
  return client;
}

/** SDK clients for the region, with the caller's credentials (the default chain, or the given environment's keys). */
function operatorClients(region: string, env: Io["env"]): OperatorClients {
  const config = {
    region,
    ...(env.AWS_ENDPOINT_URL ? { endpoint: env.AWS_ENDPOINT_URL } : {}),
    ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? {
          credentials: {
            accessKeyId: env.AWS_ACCESS_KEY_ID,
            secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
            ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
          },
        }
      : {}),
  };
  return {
    documents: DynamoDBDocument.from(nameFailedCalls(new DynamoDB(config)), {
      marshallOptions: { removeUndefinedValues: true },
    }),
    ec2: nameFailedCalls(new EC2(config)),
    sfn: nameFailedCalls(new SFN(config)),
    s3: nameFailedCalls(new S3({ ...config, forcePathStyle: env.AWS_ENDPOINT_URL !== undefined })),
    lambda: nameFailedCalls(new Lambda(config)),
    sts: nameFailedCalls(new STS(config)),
    sns: nameFailedCalls(new SNS(config)),
    iam: nameFailedCalls(new IAM(config)),
    elbv2: nameFailedCalls(new ElasticLoadBalancingV2(config)),
    autoScaling: nameFailedCalls(new AutoScaling(config)),
    guardDuty: nameFailedCalls(new GuardDuty(config)),
    securityHub: nameFailedCalls(new SecurityHub(config)),
  };
}

export function loadOperatorContext(options: GlobalOptions, io: Io): OperatorContext {
  const resources = stackResources(options, io.env);
  const output = new Output(io, options.json === true);
  const dryRun = options.dryRun === true;
  const accountId = resources.stateMachineArn.split(":")[4] ?? "";
  return {
    resources,
    clients: operatorClients(resources.region, io.env),
    output,
    region: resources.region,
    accountId,
    dryRun,
    async change(call, detail, make) {
      const shown = `${call} ${JSON.stringify(detail)}`;
      if (dryRun) {
        output.progress(`would call ${shown}`);
        return undefined;
      }
      output.progress(`calling ${shown}`);
      return make();
    },
  };
}
