import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { managedTags } from "./tagging";

export interface PagingAlarmArgs {
  /** What a person reads in the page: what happened and where to look. */
  description: string;
  namespace: string;
  metricName: string;
  dimensions: Record<string, pulumi.Input<string>>;
  statistic: "Sum" | "Maximum";
  /** The notification topic the page goes to. */
  topicArn: pulumi.Input<string>;
}

/**
 * An alarm that pages a person as soon as the metric is above zero in a minute: these metrics count things that
 * must never happen silently (a dead letter, a failed execution). No data means nothing happened.
 */
export function pagingAlarm(
  name: string,
  args: PagingAlarmArgs,
  parent: pulumi.Resource,
): aws.cloudwatch.MetricAlarm {
  return new aws.cloudwatch.MetricAlarm(
    name,
    {
      alarmDescription: args.description,
      namespace: args.namespace,
      metricName: args.metricName,
      dimensions: args.dimensions,
      statistic: args.statistic,
      period: 60,
      evaluationPeriods: 1,
      threshold: 0,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
      alarmActions: [args.topicArn],
      tags: managedTags(name),
    },
    { parent },
  );
}
