import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { PROJECT } from "./config";

/**
 * The key behind a configured KMS ARN. IAM compares a policy's Resource with the key's own ARN, so an alias ARN
 * there covers nothing: an alias is resolved to its key when the stack is deployed, and every resource and policy
 * then names that key (re-pointing the alias later takes a `pulumi up`).
 */
export function kmsKeyArnOf(configKey: string, arn: string): pulumi.Output<string> {
  const alias = /^arn:[^:]+:kms:[^:]+:\d{12}:(alias\/.+)$/.exec(arn)?.[1];
  if (alias === undefined) return pulumi.output(arn);
  return aws.kms.getAliasOutput({ name: alias }).apply((found) => {
    // The lookup is by name in the deployment's own account and region.
    if (found.arn !== arn) {
      throw new Error(
        `${PROJECT}:${configKey}: ${arn} is not this account's and region's alias (${found.arn}); give the key's ARN instead`,
      );
    }
    return found.targetKeyArn;
  });
}
