import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { workflowAssumeRolePolicy, workflowPolicy } from "./workflowPolicy";
import { pagingAlarm } from "./pagingAlarm";
import { managedTags } from "./tagging";
import { workflowDefinition } from "./workflowDefinition";

/** Step Functions state machine names: 1-80 characters. */
const NAME_LIMIT = 80;

/**
 * The state machine's name, fixed by the project and stack, so its ARN is known before it exists: the responder's
 * environment and policy name it without waiting on (or cycling through) the state machine, which names the responder.
 * Letters, digits, "-" and "_" only: what handler/settings.ts accepts in STATE_MACHINE_ARN (Step Functions would also
 * take "." of a stack name, the handler would not). Pure.
 */
export function responseStateMachineName(project: string, stack: string): string {
  return `${project}-${stack}-response`.replace(/[^A-Za-z0-9_-]/g, "-").slice(0, NAME_LIMIT);
}

/**
 * Step Functions delivers logs through CloudWatch Logs' vended logs; a log group under /aws/vendedlogs/ keeps the log
 * group's resource policy, which delivery writes, out of the account's 5,120-character limit (AWS's advice for vended
 * logs). Pure.
 */
export function workflowLogGroupName(stateMachineName: string): string {
  return `/aws/vendedlogs/states/${stateMachineName}`;
}

export interface ResponseWorkflowArgs {
  /** From responseStateMachineName; the responder computes the same ARN from it (handler/workflow.ts). */
  stateMachineName: string;
  /** The ARN Step Functions will give it: stateMachineArn(partition, region, account, name). */
  stateMachineArn: pulumi.Input<string>;
  accountId: pulumi.Input<string>;
  region: string;
  /** The partition's DNS suffix (amazonaws.com): kms:ViaService names SNS by its endpoint. */
  dnsSuffix: pulumi.Input<string>;
  /** The responder's published version (qualifiedArn): executions run the code they were deployed with. */
  functionVersionArn: pulumi.Input<string>;
  notificationTopicArn: pulumi.Input<string>;
  /** The topic's customer-managed key, when it has one. */
  topicKmsKeyArn?: pulumi.Input<string>;
  /** A step Task's limit; above the responder's own timeout (see WorkflowDefinitionArgs). */
  taskTimeoutSeconds: number;
  logRetentionDays: number;
}

/**
 * The response workflow: a Standard state machine generated from the step contracts (infra/workflowDefinition.ts),
 * run by its own role that can invoke the responder's published version, publish to the notification topic and
 * deliver logs, nothing else; its errors logged with the stack's retention; a failed execution pages a person.
 */
export class ResponseWorkflow extends pulumi.ComponentResource {
  public readonly stateMachineArn: pulumi.Output<string>;
  public readonly stateMachineName: pulumi.Output<string>;
  public readonly roleArn: pulumi.Output<string>;
  public readonly logGroupName: pulumi.Output<string>;

  constructor(name: string, args: ResponseWorkflowArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ir:aws:ResponseWorkflow", name, {}, opts);
    const child = { parent: this };

    const role = new aws.iam.Role(
      `${name}-role`,
      {
        assumeRolePolicy: pulumi
          .all([args.accountId, args.stateMachineArn])
          .apply(([accountId, arn]) => JSON.stringify(workflowAssumeRolePolicy(accountId, arn))),
        tags: managedTags(`${name}-role`),
      },
      child,
    );
    const policy = new aws.iam.RolePolicy(
      `${name}-policy`,
      {
        role: role.name,
        policy: pulumi
          .all([args.dnsSuffix, args.functionVersionArn, args.notificationTopicArn, args.topicKmsKeyArn])
          .apply(([dnsSuffix, functionVersionArn, notificationTopicArn, topicKmsKeyArn]) =>
            JSON.stringify(
              workflowPolicy({
                region: args.region,
                dnsSuffix,
                functionVersionArn,
                notificationTopicArn,
                topicKmsKeyArn,
              }),
            ),
          ),
      },
      child,
    );
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      {
        name: workflowLogGroupName(args.stateMachineName),
        retentionInDays: args.logRetentionDays,
        tags: managedTags(`${name}-logs`),
      },
      child,
    );

    const stateMachine = new aws.sfn.StateMachine(
      `${name}-state-machine`,
      {
        name: args.stateMachineName,
        type: "STANDARD",
        roleArn: role.arn,
        definition: pulumi
          .all([args.functionVersionArn, args.notificationTopicArn])
          .apply(([functionArn, topicArn]) =>
            JSON.stringify(
              workflowDefinition({ functionArn, topicArn, taskTimeoutSeconds: args.taskTimeoutSeconds }),
            ),
          ),
        // ERROR: failed states, caught errors and failed executions reach the log group and outlive the 90 days of a
        // Standard execution's own history; every event is in that history already, so ALL would pay twice. No
        // execution data: the payloads carry incident ids only, but an error's cause can quote AWS's messages (ARNs,
        // instance and role names), which the incident record keeps under its own access rules.
        loggingConfiguration: {
          level: "ERROR",
          includeExecutionData: false,
          // Step Functions takes the log group's ARN with the ":*" suffix.
          logDestination: pulumi.interpolate`${logGroup.arn}:*`,
        },
        tags: managedTags(`${name}-state-machine`),
      },
      // Step Functions checks the role's log delivery permissions when it creates the state machine.
      { parent: this, dependsOn: [policy] },
    );

    // Every step's failure is caught and reported, so an execution fails only when even the report could not be
    // written (the topic was told) or on an error no Catch can take (States.Runtime): either way a person looks.
    pagingAlarm(
      `${name}-failed-executions`,
      {
        description:
          "A response workflow execution failed: its report may be missing. Read the execution's history.",
        namespace: "AWS/States",
        metricName: "ExecutionsFailed",
        dimensions: { StateMachineArn: stateMachine.arn },
        statistic: "Sum",
        topicArn: args.notificationTopicArn,
      },
      this,
    );

    this.stateMachineArn = stateMachine.arn;
    this.stateMachineName = stateMachine.name;
    this.roleArn = role.arn;
    this.logGroupName = logGroup.name;
    this.registerOutputs({
      stateMachineArn: this.stateMachineArn,
      stateMachineName: this.stateMachineName,
      roleArn: this.roleArn,
      logGroupName: this.logGroupName,
    });
  }
}
