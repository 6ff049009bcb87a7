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

    const route = (ruleName: string, description: string, pattern: object) => {
      const rule = new aws.cloudwatch.EventRule(
        `${name}-${ruleName}`,
        { description, eventPattern: JSON.stringify(pattern), tags: managedTags(`${name}-${ruleName}`) },
        child,
      );
      const permission = new aws.lambda.Permission(
        `${name}-${ruleName}-invoke`,
        {
          action: "lambda:InvokeFunction",
          function: args.responderFunctionName,
          principal: "events.amazonaws.com",
          sourceArn: rule.arn,
        },
        child,
      );
      new aws.cloudwatch.EventTarget(
        `${name}-${ruleName}-responder`,
        {
          rule: rule.name,
          arn: args.responderFunctionArn,
          // EventBridge retries delivery for an hour, then parks the event where a person will see it.
          retryPolicy: { maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 185 },
          deadLetterConfig: { arn: args.deadLetterQueueArn },
        },
        { parent: this, dependsOn: [permission] },
      );
      return rule;
    };

    const rule = route(
      "findings",
      `GuardDuty EC2 findings at severity ${args.severityThreshold} or above, and drills`,
      findingEventPattern(args.severityThreshold, args.acceptDrillEvents),
    );
    new aws.sqs.QueuePolicy(
      `${name}-dead-letters`,
      {
        queueUrl: args.deadLetterQueueUrl,
        policy: pulumi
          .all([args.deadLetterQueueArn, rule.arn])
          .apply(([queueArn, ruleArn]) => JSON.stringify(deadLetterQueuePolicy(queueArn, [ruleArn]))),
      },
      child,
    );

    this.ruleArn = rule.arn;
    this.ruleName = rule.name;
    this.registerOutputs({ detectorId: this.detectorId, ruleArn: this.ruleArn });
  }
}
