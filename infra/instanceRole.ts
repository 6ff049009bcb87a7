import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { assumeRolePolicy, awsManagedPolicyArn } from "./policies";
import { managedTags } from "./tagging";

export interface InstanceRoleArgs {
  /** The deployment's partition: the managed policies' ARNs are in it. */
  partition: pulumi.Input<string>;
  /** AWS managed policies to attach, by the suffix of their attachment's name (`NAME-SUFFIX`). */
  managedPolicies?: Record<string, string>;
}

/** A role EC2 instances assume and its instance profile, both named `name`, with AWS managed policies attached. */
export function instanceRole(
  name: string,
  args: InstanceRoleArgs,
  parent: pulumi.Resource,
): { role: aws.iam.Role; profile: aws.iam.InstanceProfile } {
  const role = new aws.iam.Role(
    name,
    { assumeRolePolicy: JSON.stringify(assumeRolePolicy("ec2.amazonaws.com")), tags: managedTags(name) },
    { parent },
  );
  for (const [suffix, policyName] of Object.entries(args.managedPolicies ?? {})) {
    new aws.iam.RolePolicyAttachment(
      `${name}-${suffix}`,
      {
        role: role.name,
        policyArn: pulumi
          .output(args.partition)
          .apply((partition) => awsManagedPolicyArn(partition, policyName)),
      },
      { parent },
    );
  }
  const profile = new aws.iam.InstanceProfile(name, { role: role.name, tags: managedTags(name) }, { parent });
  return { role, profile };
}
