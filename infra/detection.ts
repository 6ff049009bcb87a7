import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { findingEventPattern } from "./eventPattern";
import { deadLetterQueuePolicy } from "./policies";
import { managedTags } from "./tagging";

export interface DetectionArgs {
  /** Adopt the region's existing detector (a region has at most one) instead of creating one. */
  existingDetectorId?: string;
  findingPublishingFrequency: string;
  /** Keep the detector when the stack is deleted: deleting a detector deletes its findings (false: drill stacks). */
  retainFindings: boolean;
  severityThreshold: number;
  acceptDrillEvents: boolean;
  responderFunctionArn: pulumi.Input<string>;
  responderFunctionName: pulumi.Input<string>;
  deadLetterQueueArn: pulumi.Input<string>;
  deadLetterQueueUrl: pulumi.Input<string>;
  /** Other rules that deliver to the responder (routeToResponder): their dead letters go to the same queue. */
  otherRuleArns?: pulumi.Input<string>[];
}

/** Where a rule delivers its events: the responder, retried by EventBridge, then its dead-letter queue. */
export type ResponderRoute = Pick<
  DetectionArgs,
  "responderFunctionArn" | "responderFunctionName" | "deadLetterQueueArn"
>;

/**
 * An EventBridge rule whose events invoke the responder, with the permission for that rule. EventBridge retries
 * delivery for an hour, then parks the event on the responder's dead-letter queue, where a person will see it
 * (the queue's policy must name the rule: DetectionArgs.otherRuleArns).
 */
export function routeToResponder(
  parent: pulumi.Resource,
  ruleName: string,
  route: ResponderRoute,
  description: string,
  pattern: pulumi.Input<object>,
): aws.cloudwatch.EventRule {
  const child = { parent };
  const eventPattern = pulumi.output(pattern).apply((value) => JSON.stringify(value));
  const rule = new aws.cloudwatch.EventRule(
    ruleName,
    { description, eventPattern, tags: managedTags(ruleName) },
    child,
  );
  const permission = new aws.lambda.Permission(
    `${ruleName}-invoke`,
    {
      action: "lambda:InvokeFunction",
      function: route.responderFunctionName,
      principal: "events.amazonaws.com",
      sourceArn: rule.arn,
    },
    child,
  );
  new aws.cloudwatch.EventTarget(
    `${ruleName}-responder`,
    {
      rule: rule.name,
      arn: route.responderFunctionArn,
      retryPolicy: { maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 185 },
      deadLetterConfig: { arn: route.deadLetterQueueArn },
    },
    { parent, dependsOn: [permission] },
  );
  return rule;
}

/** GuardDuty, and the EventBridge rule that hands its EC2 findings (and drills) to the responder. */
export class Detection extends pulumi.ComponentResource {
  public readonly detectorId: pulumi.Output<string>;
  public readonly ruleArn: pulumi.Output<string>;
  public readonly ruleName: pulumi.Output<string>;

  constructor(name: string, args: DetectionArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ir:aws:Detection", name, {}, opts);
    const child = { parent: this };

    this.detectorId = args.existingDetectorId
      ? pulumi.output(args.existingDetectorId)
      : new aws.guardduty.Detector(
          `${name}-detector`,
          {
            enable: true,
            findingPublishingFrequency: args.findingPublishingFrequency,
            tags: managedTags(`${name}-detector`),
          },
          // Deleting a detector deletes its findings: a retaining stack's `pulumi destroy` leaves it, and them.
          { parent: this, retainOnDelete: args.retainFindings },
        ).id;

    const rule = routeToResponder(
      this,
      `${name}-findings`,
      args,
      `GuardDuty EC2 findings at severity ${args.severityThreshold} or above, and drills`,
      findingEventPattern(args.severityThreshold, args.acceptDrillEvents),
    );
    new aws.sqs.QueuePolicy(
      `${name}-dead-letters`,
      {
        queueUrl: args.deadLetterQueueUrl,
        policy: pulumi
          .all([args.deadLetterQueueArn, pulumi.all([rule.arn, ...(args.otherRuleArns ?? [])])])
          .apply(([queueArn, ruleArns]) => JSON.stringify(deadLetterQueuePolicy(queueArn, ruleArns))),
      },
      child,
    );

    this.ruleArn = rule.arn;
    this.ruleName = rule.name;
    this.registerOutputs({ detectorId: this.detectorId, ruleArn: this.ruleArn });
  }
}
