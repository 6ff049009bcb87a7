// What the other services authorize for each action the simulator serves: Auto Scaling, ELBv2, IAM, SNS, S3, Lambda,
// EventBridge, Step Functions and DynamoDB, each check on the resource in its Service Authorization Reference format.
import { functionArn } from "../services/lambda";
import type { World } from "../state/world";
import {
  list,
  record,
  requestTagContext,
  tagContext,
  tagPairs,
  text,
  wildcard,
  type Builder,
  type Params,
  type RequestChecks,
} from "./checkBuilder";

function autoScalingGroupArn(world: World, name: string): string {
  return (
    world.autoScalingGroups.get(name)?.arn ??
    `arn:aws:autoscaling:${world.region}:${world.accountId}:autoScalingGroup:*:autoScalingGroupName/${name}`
  );
}

/** An action on the group a request names, with the group's tags. */
function onGroup(action: string): Builder {
  return (checks, params, world) => {
    const name = text(params.AutoScalingGroupName) ?? "";
    const tags = world.autoScalingGroups.get(name)?.tags;
    checks.add(
      action,
      autoScalingGroupArn(world, name),
      tagContext(tags, "aws:ResourceTag/", "autoscaling:ResourceTag/"),
    );
  };
}

export const AUTO_SCALING: Record<string, Builder> = {
  DescribeAutoScalingGroups: wildcard("autoscaling:DescribeAutoScalingGroups"),
  DescribeAutoScalingInstances: wildcard("autoscaling:DescribeAutoScalingInstances"),
  CreateAutoScalingGroup: (checks, params, world) =>
    void checks.add(
      "autoscaling:CreateAutoScalingGroup",
      autoScalingGroupArn(world, text(params.AutoScalingGroupName) ?? ""),
      requestTagContext(tagPairs(params.Tags)),
    ),
  DetachInstances: onGroup("autoscaling:DetachInstances"),
  AttachInstances: onGroup("autoscaling:AttachInstances"),
};

export const ELBV2: Record<string, Builder> = {
  DescribeTargetGroups: wildcard("elasticloadbalancing:DescribeTargetGroups"),
  DescribeTargetHealth: wildcard("elasticloadbalancing:DescribeTargetHealth"),
  CreateTargetGroup: (checks, params, world) =>
    void checks.add(
      "elasticloadbalancing:CreateTargetGroup",
      `arn:aws:elasticloadbalancing:${world.region}:${world.accountId}:targetgroup/${text(params.Name) ?? ""}/*`,
    ),
  RegisterTargets: (checks, params) =>
    void checks.add("elasticloadbalancing:RegisterTargets", text(params.TargetGroupArn) ?? "*"),
  DeregisterTargets: (checks, params) =>
    void checks.add("elasticloadbalancing:DeregisterTargets", text(params.TargetGroupArn) ?? "*"),
};

const iamArn = (world: World, kind: string, name: unknown) =>
  `arn:aws:iam::${world.accountId}:${kind}/${text(name) ?? ""}`;

export const IAM: Record<string, Builder> = {
  CreateRole: (checks, params, world) =>
    void checks.add("iam:CreateRole", iamArn(world, "role", params.RoleName)),
  PutRolePolicy: (checks, params, world) =>
    void checks.add("iam:PutRolePolicy", iamArn(world, "role", params.RoleName)),
  GetRolePolicy: (checks, params, world) =>
    void checks.add("iam:GetRolePolicy", iamArn(world, "role", params.RoleName)),
  DeleteRolePolicy: (checks, params, world) =>
    void checks.add("iam:DeleteRolePolicy", iamArn(world, "role", params.RoleName)),
  CreateInstanceProfile: (checks, params, world) =>
    void checks.add(
      "iam:CreateInstanceProfile",
      iamArn(world, "instance-profile", params.InstanceProfileName),
    ),
  GetInstanceProfile: (checks, params, world) =>
    void checks.add("iam:GetInstanceProfile", iamArn(world, "instance-profile", params.InstanceProfileName)),
  // Putting a role in a profile hands it to whoever launches with the profile: IAM asks for iam:PassRole too.
  AddRoleToInstanceProfile: (checks, params, world) =>
    void checks
      .add("iam:AddRoleToInstanceProfile", iamArn(world, "instance-profile", params.InstanceProfileName))
      .add("iam:PassRole", iamArn(world, "role", params.RoleName)),
};

export const SNS: Record<string, Builder> = {
  CreateTopic: (checks, params, world) =>
    void checks.add(
      "sns:CreateTopic",
      `arn:aws:sns:${world.region}:${world.accountId}:${text(params.Name) ?? ""}`,
    ),
  Publish: (checks, params) =>
    void checks.add("sns:Publish", text(params.TopicArn) ?? text(params.TargetArn) ?? "*"),
};

const s3Object = (params: Params) => `arn:aws:s3:::${text(params.Bucket) ?? ""}/${text(params.Key) ?? ""}`;
const s3Bucket = (params: Params) => `arn:aws:s3:::${text(params.Bucket) ?? ""}`;

export const S3: Record<string, Builder> = {
  CreateBucket: (checks, params) => void checks.add("s3:CreateBucket", s3Bucket(params)),
  HeadBucket: (checks, params) => void checks.add("s3:ListBucket", s3Bucket(params)),
  ListObjectsV2: (checks, params) => void checks.add("s3:ListBucket", s3Bucket(params)),
  PutObject: (checks, params) => void checks.add("s3:PutObject", s3Object(params)),
  CopyObject: (checks, params) => void checks.add("s3:PutObject", s3Object(params)),
  GetObject: (checks, params) => void checks.add("s3:GetObject", s3Object(params)),
  HeadObject: (checks, params) => void checks.add("s3:GetObject", s3Object(params)),
};

export const LAMBDA: Record<string, Builder> = {
  // A version or alias is authorized on the qualified ARN: a policy naming only the unqualified function does not
  // allow invoking `name:7` (Lambda Developer Guide, "Resources and conditions for Lambda actions").
  Invoke: (checks, params, world) =>
    void checks.add(
      "lambda:InvokeFunction",
      functionArn(world.region, world.accountId, text(params.FunctionName) ?? "", text(params.Qualifier)),
    ),
};

export const EVENTS: Record<string, Builder> = {
  PutEvents: (checks, _params, world) =>
    void checks.add(
      "events:PutEvents",
      `arn:aws:events:${world.region}:${world.accountId}:event-bus/default`,
    ),
};

/** A state machine's ARN as a request names it, with the machine's tags (aws:ResourceTag) when it exists. */
function stateMachineCheck(checks: RequestChecks, world: World, action: string, arn: string): void {
  checks.add(action, arn, tagContext(world.stateMachines.get(arn)?.tags, "aws:ResourceTag/"));
}

/**
 * An execution's ARN (arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME). Assumption: an execution is authorized
 * with the tags of its state machine (executions carry no tags of their own).
 */
function executionCheck(checks: RequestChecks, world: World, action: string, arn: string): void {
  const machine = arn.replace(/:execution:([^:]+):[^:]+$/, ":stateMachine:$1");
  checks.add(action, arn, tagContext(world.stateMachines.get(machine)?.tags, "aws:ResourceTag/"));
}

/** iam:PassRole of the machine's role; an ARN that is no role is refused by the action itself (InvalidArn). */
function passStatesRole(checks: RequestChecks, params: Params): void {
  const role = text(params.roleArn);
  if (role && /^arn:[^:]+:iam::\d{12}:role\/.+$/.test(role)) {
    checks.add("iam:PassRole", role, { "iam:PassedToService": "states.amazonaws.com" });
  }
}

const stateMachineArnOf = (world: World, params: Params): string =>
  text(params.stateMachineArn) ?? `arn:aws:states:${world.region}:${world.accountId}:stateMachine:*`;
const executionArnOf = (world: World, params: Params): string =>
  text(params.executionArn) ?? `arn:aws:states:${world.region}:${world.accountId}:execution:*:*`;

/**
 * Step Functions (Service Authorization Reference, "Actions defined by AWS Step Functions"): CreateStateMachine,
 * DescribeStateMachine, UpdateStateMachine, DeleteStateMachine, StartExecution and ListExecutions act on the
 * `statemachine` resource; DescribeExecution, GetExecutionHistory and StopExecution on `execution`;
 * ListStateMachines on `*` only. Handing a role to a state machine needs iam:PassRole with iam:PassedToService
 * states.amazonaws.com.
 */
export const STATES: Record<string, Builder> = {
  CreateStateMachine: (checks, params, world) => {
    const tags = list(params.tags).flatMap((tag) => {
      const { key, value } = record(tag);
      return typeof key === "string" ? [[key, text(value) ?? ""] as [string, string]] : [];
    });
    checks.add(
      "states:CreateStateMachine",
      `arn:aws:states:${world.region}:${world.accountId}:stateMachine:${text(params.name) ?? ""}`,
      requestTagContext(tags),
    );
    passStatesRole(checks, params);
  },
  DescribeStateMachine: (checks, params, world) =>
    stateMachineCheck(checks, world, "states:DescribeStateMachine", stateMachineArnOf(world, params)),
  UpdateStateMachine: (checks, params, world) => {
    stateMachineCheck(checks, world, "states:UpdateStateMachine", stateMachineArnOf(world, params));
    passStatesRole(checks, params);
  },
  DeleteStateMachine: (checks, params, world) =>
    stateMachineCheck(checks, world, "states:DeleteStateMachine", stateMachineArnOf(world, params)),
  ListStateMachines: wildcard("states:ListStateMachines"),
  StartExecution: (checks, params, world) =>
    stateMachineCheck(checks, world, "states:StartExecution", stateMachineArnOf(world, params)),
  ListExecutions: (checks, params, world) =>
    stateMachineCheck(checks, world, "states:ListExecutions", stateMachineArnOf(world, params)),
  DescribeExecution: (checks, params, world) =>
    executionCheck(checks, world, "states:DescribeExecution", executionArnOf(world, params)),
  GetExecutionHistory: (checks, params, world) =>
    executionCheck(checks, world, "states:GetExecutionHistory", executionArnOf(world, params)),
  StopExecution: (checks, params, world) =>
    executionCheck(checks, world, "states:StopExecution", executionArnOf(world, params)),
};

const DYNAMODB_ACTIONS = ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "CreateTable"];

export const DYNAMODB: Record<string, Builder> = Object.fromEntries(
  DYNAMODB_ACTIONS.map((name) => [
    name,
    (checks: RequestChecks, params: Params, world: World) =>
      void checks.add(
        `dynamodb:${name}`,
        `arn:aws:dynamodb:${world.region}:${world.accountId}:table/${text(params.TableName) ?? ""}`,
      ),
  ]),
);

/** GuardDuty: ArchiveFindings supports no resource-level permissions (Service Authorization Reference). */
/**
 * BatchUpdateFindings is authorized on the hub; securityhub:ASFFSyntaxPath/<field> carries the value of each field
 * the request updates (Security Hub user guide, "Configuring access to BatchUpdateFindings").
 */
export const SECURITYHUB: Record<string, Builder> = {
  BatchUpdateFindings: (checks, params, world) => {
    const status = text(record(params.Workflow).Status);
    checks.add(
      "securityhub:BatchUpdateFindings",
      `arn:aws:securityhub:${world.region}:${world.accountId}:hub/default`,
      status === undefined ? {} : { "securityhub:ASFFSyntaxPath/Workflow.Status": status },
    );
  },
};

export const GUARDDUTY: Record<string, Builder> = {
  ArchiveFindings: wildcard("guardduty:ArchiveFindings"),
};
