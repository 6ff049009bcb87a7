import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { instanceRole } from "./instanceRole";
import { denyEverythingPolicy, forensicReadPolicy } from "./policies";

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
  public readonly forensicRoleName: pulumi.Output<string>;
  public readonly forensicInstanceProfileArn: pulumi.Output<string>;
  public readonly forensicInstanceProfileName: pulumi.Output<string>;
  public readonly quarantineRoleArn: pulumi.Output<string>;
  public readonly quarantineInstanceProfileArn: pulumi.Output<string>;

  constructor(name: string, args: ForensicAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ir:aws:ForensicAccess", name, {}, opts);
    const forensic = instanceRole(
      `${name}-forensic`,
      // Session Manager, the only way in.
      { partition: args.partition, managedPolicies: { ssm: "AmazonSSMManagedInstanceCore" } },
      this,
    );
    new aws.iam.RolePolicy(
      `${name}-forensic-read-evidence`,
      {
        role: forensic.role.name,
        policy: pulumi
          .all([args.evidenceBucketArn, args.evidenceKmsKeyArn])
          .apply(([bucketArn, keyArn]) => JSON.stringify(forensicReadPolicy(bucketArn, keyArn))),
      },
      { parent: this },
    );

    const quarantine = instanceRole(`${name}-quarantine`, { partition: args.partition }, this);
    new aws.iam.RolePolicy(
      `${name}-quarantine-deny-all`,
      { role: quarantine.role.name, policy: JSON.stringify(denyEverythingPolicy()) },
      { parent: this },
    );

    this.forensicRoleArn = forensic.role.arn;
    this.forensicRoleName = forensic.role.name;
    this.forensicInstanceProfileArn = forensic.profile.arn;
    this.forensicInstanceProfileName = forensic.profile.name;
    this.quarantineRoleArn = quarantine.role.arn;
    this.quarantineInstanceProfileArn = quarantine.profile.arn;
    this.registerOutputs({
      forensicRoleArn: this.forensicRoleArn,
      forensicInstanceProfileArn: this.forensicInstanceProfileArn,
      quarantineRoleArn: this.quarantineRoleArn,
      quarantineInstanceProfileArn: this.quarantineInstanceProfileArn,
    });
  }
}
