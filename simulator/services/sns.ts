// SNS (awsQuery): Publish to a topic; messages are kept for the test to read.
import {
  CreateTopic$,
  Publish$,
  type CreateTopicInput,
  type CreateTopicResponse,
  type PublishInput,
  type PublishResponse,
} from "@aws-sdk/client-sns";
import { randomUUID } from "node:crypto";
import { AwsError } from "../errors";
import type { World } from "../state/world";
import { defineOperation, QueryEndpoint, rateExceeded } from "../wire/queryProtocol";

const MAX_MESSAGE_BYTES = 262_144;

export function snsEndpoint(world: World): QueryEndpoint {
  return new QueryEndpoint({
    signingName: "sns",
    flavor: "query",
    xmlNamespace: "http://sns.amazonaws.com/doc/2010-03-31/",
    missingParameter: (memberName) => new AwsError("InvalidParameter", `Invalid parameter: ${memberName}`),
    throttlingError: rateExceeded,
    operations: {
      // CreateTopic is idempotent in SNS: the same name answers the same ARN.
      CreateTopic: defineOperation<CreateTopicInput, CreateTopicResponse>(
        CreateTopic$,
        { mutating: true },
        (input) => {
          const name = input.Name ?? "";
          if (!/^[A-Za-z0-9_-]{1,256}(\.fifo)?$/.test(name)) {
            throw new AwsError("InvalidParameter", "Invalid parameter: Topic Name");
          }
          const topicArn = `arn:aws:sns:${world.region}:${world.accountId}:${name}`;
          if (!world.topics.has(topicArn)) world.topics.set(topicArn, { topicArn, messages: [] });
          return { TopicArn: topicArn };
        },
      ),

      Publish: defineOperation<PublishInput, PublishResponse>(Publish$, { mutating: true }, (input) => {
        const arn = input.TopicArn ?? input.TargetArn;
        if (!arn)
          throw new AwsError(
            "InvalidParameter",
            "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter",
          );
        const topic = world.topics.get(arn);
        if (!topic) throw new AwsError("NotFound", "Topic does not exist", 404);
        const message = input.Message ?? "";
        if (message.length === 0) throw new AwsError("InvalidParameter", "Invalid parameter: Empty message");
        if (Buffer.byteLength(message) > MAX_MESSAGE_BYTES) {
          throw new AwsError("InvalidParameter", "Invalid parameter: Message too long");
        }
        const subject = input.Subject;
        // SNS: subject up to 100 printable ASCII characters, no line breaks.
        if (
          subject !== undefined &&
          (subject.length === 0 || subject.length > 100 || /[^\x20-\x7e]/.test(subject))
        ) {
          throw new AwsError("InvalidParameter", "Invalid parameter: Subject");
        }
        const attributes: Record<string, string> = {};
        for (const [name, value] of Object.entries(input.MessageAttributes ?? {})) {
          if (!value.DataType)
            throw new AwsError(
              "ParameterValueInvalid",
              `The message attribute '${name}' must contain non-empty message attribute type.`,
            );
          attributes[name] = value.StringValue ?? "";
        }
        const messageId = randomUUID();
        topic.messages.push({
          messageId,
          topicArn: arn,
          subject,
          message,
          attributes,
          publishedAt: world.now(),
        });
        return { MessageId: messageId };
      }),
    },
  });
}
