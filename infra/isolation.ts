import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { forensicWorkstationRules, GroupRules, isolationRules, untrackRules } from "./securityGroupRules";
import { securityGroupTags } from "./tagging";
import type { SecurityGroupRole } from "../handler/tags";

export interface IsolationGroupsArgs {
  vpcId: string;
  forensicSourceCidrs: string[];
  forensicIngressPorts: number[];
  forensicEgressCidrs: string[];
}

/**
 * The three security groups a VPC needs for a response: the untrack hop, the isolation group, and the forensic
 * workstation's group. Security groups belong to one VPC, so the program makes one set per configured VPC (the
 * responder makes a tagged set on demand for any other VPC).
 */
export class IsolationGroups extends pulumi.ComponentResource {
  public readonly untrackGroupId: pulumi.Output<string>;
  public readonly isolationGroupId: pulumi.Output<string>;
  public readonly forensicGroupId: pulumi.Output<string>;

  constructor(name: string, args: IsolationGroupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ir:aws:IsolationGroups", name, {}, opts);
    const group = (role: SecurityGroupRole, rules: GroupRules) =>
      new aws.ec2.SecurityGroup(
        `${name}-${role}`,
        {
          vpcId: args.vpcId,
          description: rules.description,
          ingress: rules.ingress,
          egress: rules.egress,
          // Rules are removed before the group on destroy, so an ENI still in a group blocks destroy loudly.
          revokeRulesOnDelete: true,
          tags: securityGroupTags(`${name}-${role}`, role),
        },
        { parent: this },
      );
    this.untrackGroupId = group("untrack", untrackRules()).id;
    this.isolationGroupId = group(
      "isolation",
      isolationRules(args.forensicSourceCidrs, args.forensicIngressPorts),
    ).id;
    this.forensicGroupId = group("forensic", forensicWorkstationRules(args.forensicEgressCidrs)).id;
    this.registerOutputs({
      untrackGroupId: this.untrackGroupId,
      isolationGroupId: this.isolationGroupId,
      forensicGroupId: this.forensicGroupId,
    });
  }
}
