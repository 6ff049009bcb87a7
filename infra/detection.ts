import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { findingEventPattern } from "./eventPattern";
import { deadLetterQueuePolicy } from "./policies";
import { managedTags } from "./tagging";

export interface DetectionArgs {
  /** Adopt the region's existing detector (a region has at most one) instead of creating one. */
  existingDetectorId?: string;
  findingPublishingFrequency: string;
  severityThreshold: number;
  acceptDrillEvents: boolean;
  responderFunctionArn: pulumi.Input<string>;
  responderFunctionName: pulumi.Input<string>;
  deadLetterQueueArn: pulumi.Input<string>;
  deadLetterQueueUrl: pulumi.Input<string>;
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
          child,
        ).id;

    const rule = new aws.cloudwatch.EventRule(
      `${name}-findings`,
      {
        description: `GuardDuty EC2 findings at severity ${args.severityThreshold} or above, and drills`,
        eventPattern: JSON.stringify(findingEventPattern(args.severityThreshold, args.acceptDrillEvents)),
        tags: managedTags(`${name}-findings`),
      },
      child,
    );
    const permission = new aws.lambda.Permission(
      `${name}-invoke`,
      {
        action: "lambda:InvokeFunction",
        function: args.responderFunctionName,
        principal: "events.amazonaws.com",
        sourceArn: rule.arn,
      },
      child,
    );
    new aws.sqs.QueuePolicy(
      `${name}-dead-letters`,
      {
        queueUrl: args.deadLetterQueueUrl,
        policy: pulumi
          .all([args.deadLetterQueueArn, rule.arn])
          .apply(([queueArn, ruleArn]) => JSON.stringify(deadLetterQueuePolicy(queueArn, ruleArn))),
      },
      child,
    );
    new aws.cloudwatch.EventTarget(
      `${name}-responder`,
      {
        rule: rule.name,
        arn: args.responderFunctionArn,
        // EventBridge retries delivery for an hour, then parks the finding where a person will see it.
        retryPolicy: { maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 185 },
        deadLetterConfig: { arn: args.deadLetterQueueArn },
      },
      { parent: this, dependsOn: [permission] },
    );

    this.ruleArn = rule.arn;
    this.ruleName = rule.name;
    this.registerOutputs({ detectorId: this.detectorId, ruleArn: this.ruleArn });
  }
}
