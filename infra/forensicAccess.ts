import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { assumeRolePolicy, awsManagedPolicyArn, denyEverythingPolicy, forensicReadPolicy } from "./policies";
import { managedTags } from "./tagging";

export interface ForensicAccessArgs {
  evidenceBucketArn: pulumi.Input<string>;
  evidenceKmsKeyArn?: pulumi.Input<string>;
  partition: pulumi.Input<string>;
}

/**
 * Identities the responder hands to instances: the forensic workstation's profile (Session Manager and read access
 * to evidence, nothing more) and the quarantine profile that replaces a compromised instance's own (denies all).
 */
export class ForensicAccess extends pulumi.ComponentResource {
  public readonly forensicRoleArn: pulumi.Output<string>;
  public readonly forensicInstanceProfileArn: pulumi.Output<string>;
  public readonly forensicInstanceProfileName: pulumi.Output<string>;
  public readonly quarantineRoleArn: pulumi.Output<string>;
  public readonly quarantineInstanceProfileArn: pulumi.Output<string>;

  constructor(name: string, args: ForensicAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ir:aws:ForensicAccess", name, {}, opts);
    const ec2Trust = JSON.stringify(assumeRolePolicy("ec2.amazonaws.com"));

    const forensicRole = new aws.iam.Role(
      `${name}-forensic`,
      { assumeRolePolicy: ec2Trust, tags: managedTags(`${name}-forensic`) },
      { parent: this },
    );
    new aws.iam.RolePolicyAttachment(
      `${name}-forensic-ssm`,
      {
        role: forensicRole.name,
        policyArn: pulumi
          .output(args.partition)
          .apply((partition) => awsManagedPolicyArn(partition, "AmazonSSMManagedInstanceCore")),
      },
      { parent: this },
    );
    new aws.iam.RolePolicy(
      `${name}-forensic-read-evidence`,
      {
        role: forensicRole.name,
        policy: pulumi
          .all([args.evidenceBucketArn, args.evidenceKmsKeyArn])
          .apply(([bucketArn, keyArn]) => JSON.stringify(forensicReadPolicy(bucketArn, keyArn))),
      },
      { parent: this },
    );
    const forensicProfile = new aws.iam.InstanceProfile(
      `${name}-forensic`,
      { role: forensicRole.name, tags: managedTags(`${name}-forensic`) },
      { parent: this },
    );

    const quarantineRole = new aws.iam.Role(
      `${name}-quarantine`,
      { assumeRolePolicy: ec2Trust, tags: managedTags(`${name}-quarantine`) },
      { parent: this },
    );
    new aws.iam.RolePolicy(
      `${name}-quarantine-deny-all`,
      { role: quarantineRole.name, policy: JSON.stringify(denyEverythingPolicy()) },
      { parent: this },
    );
    const quarantineProfile = new aws.iam.InstanceProfile(
      `${name}-quarantine`,
      { role: quarantineRole.name, tags: managedTags(`${name}-quarantine`) },
      { parent: this },
    );

    this.forensicRoleArn = forensicRole.arn;
    this.forensicInstanceProfileArn = forensicProfile.arn;
    this.forensicInstanceProfileName = forensicProfile.name;
    this.quarantineRoleArn = quarantineRole.arn;
    this.quarantineInstanceProfileArn = quarantineProfile.arn;
    this.registerOutputs({
      forensicRoleArn: this.forensicRoleArn,
      forensicInstanceProfileArn: this.forensicInstanceProfileArn,
      quarantineRoleArn: this.quarantineRoleArn,
      quarantineInstanceProfileArn: this.quarantineInstanceProfileArn,
    });
  }
}
