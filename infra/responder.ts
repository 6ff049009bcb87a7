import * as fs from "fs";
import * as path from "path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { brotliCompressSync } from "zlib";
import { createResponder } from "../handler";
import {
  COMPRESSED_SETTING_PREFIX,
  settingsEnvironment,
  type Settings,
  type VpcSecurityGroups,
} from "../handler/settings";
import { pagingAlarm } from "./pagingAlarm";
import { assumeRolePolicy } from "./policies";
import { responderPolicy } from "./responderPolicy";
import { managedTags } from "./tagging";

/**
 * The handler's settings as the stack passes them: Lambda sets AWS_REGION itself, and the longest poll interval and
 * the time scale (a drill's) stay at the handler's defaults.
 */
export type ResponderSettings = Omit<Settings, "region" | "maxPollIntervalSeconds" | "timeScale">;

/** Lambda refuses a function whose environment, measured as the JSON of all names and values, exceeds 4 KB. */
const LAMBDA_ENVIRONMENT_LIMIT = 4096;

function environmentSize(variables: Record<string, string>): number {
  return Buffer.byteLength(JSON.stringify(variables), "utf8");
}

/**
 * Adds VPC_SECURITY_GROUPS to the environment. As JSON it costs about 140 bytes per VPC (a VPC id and three group
 * ids of 20-21 characters, the field names, and its quotes escaped in Lambda's measure): the 4 KB are full at about
 * 20 VPCs. Four random ids per VPC take about 68 bytes of text even without prefixes or names, so no plain form fits
 * 50 VPCs; moving the map to SSM or S3 would cost a call and a permission at every cold start, before the first
 * isolation move. So the map stays in the environment: plain JSON while that fits (readable, and what the drill
 * rewrites), brotli-compressed in base64 when not (about 45 bytes per VPC: about 55 VPCs beside two replacement
 * roles). Beyond that `pulumi up` stops here; a VPC left out of vpcIds gets its groups on demand.
 */
function withVpcSecurityGroups(
  variables: Record<string, string>,
  groups: VpcSecurityGroups,
): Record<string, string> {
  const json = JSON.stringify(groups);
  const plain = { ...variables, VPC_SECURITY_GROUPS: json };
  if (environmentSize(plain) <= LAMBDA_ENVIRONMENT_LIMIT) return plain;
  const packed = {
    ...variables,
    VPC_SECURITY_GROUPS: COMPRESSED_SETTING_PREFIX + brotliCompressSync(json).toString("base64"),
  };
  const size = environmentSize(packed);
  if (size > LAMBDA_ENVIRONMENT_LIMIT) {
    throw new Error(
      `the responder's environment would be ${size} bytes, over Lambda's ${LAMBDA_ENVIRONMENT_LIMIT}: list fewer ` +
        `vpcIds (${Object.keys(groups).length} now; a VPC not listed gets its groups on demand) or fewer replacementRoleArns`,
    );
  }
  return packed;
}

/** The environment variables handler/settings.ts reads, from its own schema. */
export function responderEnvironment(settings: ResponderSettings): Record<string, string> {
  const { vpcSecurityGroups, securityHubUpdates, ...rest } = settings;
  // Off is the handler's default: left out then, so the 4 KB hold as many VPCs as without Security Hub.
  const written = securityHubUpdates ? { ...rest, securityHubUpdates } : rest;
  return withVpcSecurityGroups(
    { ...settingsEnvironment(written), POWERTOOLS_SERVICE_NAME: "ec2-incident-response" },
    vpcSecurityGroups,
  );
}

/**
 * Pulumi puts every dependency in the archive unless excluded, and matches exact names only. The Lambda runtime
 * provides the AWS SDK v3 and the Powertools layer the logger; the operators' CLI and Pulumi are never loaded by the
 * handler. So every dependency is excluded, and the one package the handler bundles, superstruct, is included by
 * path: only what Node loads (its `main`, the CommonJS build), not its ESM build, source maps, type declarations
 * and readme (about 30 KB zipped).
 */
const SUPERSTRUCT_FILES = [
  "node_modules/superstruct/package.json",
  "node_modules/superstruct/dist/index.cjs",
];

/** The public SSM parameter AWS publishes for each Powertools for AWS Lambda (TypeScript) layer version. */
function powertoolsLayerParameter(version: string): string {
  return `/aws/service/powertools/typescript/generic/all/${version}`;
}

/** The logger version the handler was tested with, so the layer matches it exactly. */
function installedPowertoolsVersion(): string {
  const manifest = path.join(
    path.dirname(require.resolve("@aws-lambda-powertools/logger")),
    "..",
    "..",
    "package.json",
  );
  return (JSON.parse(fs.readFileSync(manifest, "utf8")) as { version: string }).version;
}

export interface ResponderArgs {
  settings: pulumi.Input<ResponderSettings>;
  region: string;
  partition: pulumi.Input<string>;
  /** The partition's DNS suffix (amazonaws.com): kms:ViaService names EC2 by its endpoint. */
  dnsSuffix: pulumi.Input<string>;
  evidenceBucketArn: pulumi.Input<string>;
  /** A key ARN (aliases are resolved by index.ts). */
  evidenceKmsKeyArn?: pulumi.Input<string>;
  /** Customer-managed keys of EBS volumes, snapshots and AMIs a response copies or launches from. */
  ebsKmsKeyArns: string[];
  incidentTableArn: pulumi.Input<string>;
  /** Roles the responder may pass to EC2: forensic, quarantine, and configured replacement roles. */
  passableRoleArns: pulumi.Input<string>[];
  /** The stack's own roles, which the responder may never rewrite. */
  protectedRoleArns: pulumi.Input<string>[];
  memoryMb: number;
  timeoutSeconds: number;
  logRetentionDays: number;
  /** Override; otherwise resolved from AWS's public SSM parameter for the installed logger version. */
  powertoolsLayerArn?: string;
}

/**
 * The responder Lambda with its own least-privilege role, log group and dead-letter queue. The function is the
 * serialized `createResponder` factory from handler/.
 */
export class Responder extends pulumi.ComponentResource {
  public readonly functionName: pulumi.Output<string>;
  public readonly functionArn: pulumi.Output<string>;
  /** The published version's ARN (function:NAME:VERSION), which the response workflow invokes. */
  public readonly functionVersionArn: pulumi.Output<string>;
  public readonly roleArn: pulumi.Output<string>;
  public readonly logGroupName: pulumi.Output<string>;
  public readonly deadLetterQueueArn: pulumi.Output<string>;
  public readonly deadLetterQueueUrl: pulumi.Output<string>;

  constructor(name: string, args: ResponderArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ir:aws:Responder", name, {}, opts);
    const child = { parent: this };

    const role = new aws.iam.Role(
      `${name}-role`,
      {
        assumeRolePolicy: JSON.stringify(assumeRolePolicy("lambda.amazonaws.com")),
        tags: managedTags(`${name}-role`),
      },
      child,
    );
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { retentionInDays: args.logRetentionDays, tags: managedTags(`${name}-logs`) },
      child,
    );
    const deadLetters = new aws.sqs.Queue(
      `${name}-dead-letters`,
      {
        sqsManagedSseEnabled: true,
        messageRetentionSeconds: 14 * 24 * 3600,
        tags: managedTags(`${name}-dead-letters`),
      },
      child,
    );
    const layerArn =
      args.powertoolsLayerArn ??
      aws.ssm.getParameterOutput({ name: powertoolsLayerParameter(installedPowertoolsVersion()) }, child)
        .value;
    const packageJson = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "package.json"), "utf8")) as {
      dependencies?: Record<string, string>;
    };

    const fn = new aws.lambda.CallbackFunction(
      `${name}-function`,
      {
        callbackFactory: createResponder,
        role,
        runtime: aws.lambda.Runtime.NodeJS22dX,
        // Pure JavaScript: Graviton is cheaper per millisecond and starts as fast.
        architectures: ["arm64"],
        memorySize: args.memoryMb,
        timeout: args.timeoutSeconds,
        // Every deployment publishes a version: the workflow invokes that version, so an execution runs the code it
        // was deployed with, and its role may invoke nothing else (infra/workflow.ts).
        publish: true,
        layers: [layerArn],
        environment: { variables: pulumi.output(args.settings).apply(responderEnvironment) },
        loggingConfig: {
          logFormat: "JSON",
          logGroup: logGroup.name,
          applicationLogLevel: "INFO",
          systemLogLevel: "WARN",
        },
        codePathOptions: {
          extraExcludePackages: Object.keys(packageJson.dependencies ?? {}),
          extraIncludePaths: [...SUPERSTRUCT_FILES],
        },
        tags: managedTags(`${name}-function`),
      },
      child,
    );

    const policy = new aws.iam.RolePolicy(
      `${name}-policy`,
      {
        role: role.name,
        policy: pulumi
          .all([
            pulumi.output(args.settings),
            pulumi.all([args.partition, args.dnsSuffix, args.evidenceKmsKeyArn]),
            logGroup.arn,
            deadLetters.arn,
            args.incidentTableArn,
            args.evidenceBucketArn,
            pulumi.all([
              pulumi.all(args.passableRoleArns),
              pulumi.all([role.arn, ...args.protectedRoleArns]),
            ]),
          ])
          .apply(
            ([
              settings,
              [partition, dnsSuffix, evidenceKmsKeyArn],
              logGroupArn,
              dlqArn,
              tableArn,
              bucketArn,
              [passable, own],
            ]) =>
              JSON.stringify(
                responderPolicy({
                  partition,
                  dnsSuffix,
                  region: args.region,
                  accountId: settings.accountId,
                  stateMachineArn: settings.stateMachineArn,
                  logGroupArn,
                  deadLetterQueueArn: dlqArn,
                  incidentTableArn: tableArn,
                  evidenceBucketArn: bucketArn,
                  evidenceKmsKeyArn,
                  ebsKmsKeyArns: args.ebsKmsKeyArns,
                  notificationTopicArn: settings.notificationTopicArn,
                  passableRoleArns: passable,
                  protectedRoleArns: own,
                  revokeRoleSessions: settings.revokeRoleSessions,
                  securityHub: settings.securityHubUpdates,
                  triageDocument: settings.triageDocument,
                }),
              ),
          ),
      },
      child,
    );

    // Lambda retries a failed asynchronous invocation twice (a response resumes from its recorded step), then
    // parks the event on the dead-letter queue for a person.
    new aws.lambda.FunctionEventInvokeConfig(
      `${name}-async`,
      {
        functionName: fn.name,
        maximumRetryAttempts: 2,
        maximumEventAgeInSeconds: 6 * 3600,
        destinationConfig: { onFailure: { destination: deadLetters.arn } },
      },
      { parent: this, dependsOn: [policy] },
    );

    // Nothing may die silently: a finding or a response that ends on the dead-letter queue pages a person.
    pagingAlarm(
      `${name}-dead-letters`,
      {
        description: "A GuardDuty finding or a response could not be completed: read the dead-letter queue",
        namespace: "AWS/SQS",
        metricName: "ApproximateNumberOfMessagesVisible",
        dimensions: { QueueName: deadLetters.name },
        statistic: "Maximum",
        topicArn: pulumi.output(args.settings).apply((s) => s.notificationTopicArn),
      },
      this,
    );

    this.functionName = fn.name;
    this.functionArn = fn.arn;
    this.functionVersionArn = fn.qualifiedArn;
    this.roleArn = role.arn;
    this.logGroupName = logGroup.name;
    this.deadLetterQueueArn = deadLetters.arn;
    this.deadLetterQueueUrl = deadLetters.url;
    this.registerOutputs({
      functionName: this.functionName,
      functionArn: this.functionArn,
      functionVersionArn: this.functionVersionArn,
      roleArn: this.roleArn,
      logGroupName: this.logGroupName,
      deadLetterQueueUrl: this.deadLetterQueueUrl,
    });
  }
}
