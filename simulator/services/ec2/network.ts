// EC2 networking: VPCs (each with its default security group), subnets, network interfaces.
import {
  CreateSubnet$,
  CreateVpc$,
  DescribeNetworkInterfaces$,
  DescribeSubnets$,
  DescribeVpcs$,
  ModifyNetworkInterfaceAttribute$,
  type CreateSubnetRequest,
  type CreateSubnetResult,
  type CreateVpcRequest,
  type CreateVpcResult,
  type DescribeNetworkInterfacesRequest,
  type DescribeNetworkInterfacesResult,
  type DescribeSubnetsRequest,
  type DescribeSubnetsResult,
  type DescribeVpcsRequest,
  type DescribeVpcsResult,
  type ModifyNetworkInterfaceAttributeRequest,
} from "@aws-sdk/client-ec2";
import { AwsError } from "../../errors";
import type { NetworkInterface, SecurityGroup, SecurityGroupRule, Subnet, Vpc } from "../../state/model";
import type { World } from "../../state/world";
import { defineOperation, type QueryOperation } from "../../wire/queryProtocol";
import {
  checkTagSpecifications,
  describePage,
  find,
  selectMatching,
  tagsFor,
  type FilterTable,
} from "./common";
import { renderNetworkInterface, renderSubnet, renderVpc } from "./render";

/** The rule AWS adds to every new VPC security group: all traffic out to anywhere. */
export function defaultEgressRule(world: World): SecurityGroupRule {
  return { ruleId: world.newId("sgr"), ipProtocol: "-1", cidrIpv4: "0.0.0.0/0" };
}

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** A VPC or subnet CIDR: AWS allows netmasks /16 to /28. */
function checkBlock(cidr: string | undefined, code: string): string {
  const match = CIDR.exec(cidr ?? "");
  const prefix = Number(match?.[5]);
  if (!match || prefix < 16 || prefix > 28 || match.slice(1, 5).some((octet) => Number(octet) > 255)) {
    throw new AwsError(code, `The CIDR '${cidr ?? ""}' is invalid.`);
  }
  return cidr ?? "";
}

const VPC_FILTERS: FilterTable<Vpc> = {
  "vpc-id": (vpc) => [vpc.vpcId],
  cidr: (vpc) => [vpc.cidrBlock],
};

const SUBNET_FILTERS: FilterTable<Subnet> = {
  "vpc-id": (subnet) => [subnet.vpcId],
  "subnet-id": (subnet) => [subnet.subnetId],
  "availability-zone": (subnet) => [subnet.availabilityZone],
  "availability-zone-id": (subnet) => [subnet.availabilityZoneId],
  "cidr-block": (subnet) => [subnet.cidrBlock],
};

const INTERFACE_FILTERS: FilterTable<NetworkInterface> = {
  "network-interface-id": (eni) => [eni.networkInterfaceId],
  "attachment.instance-id": (eni) => [eni.attachment?.instanceId],
  "vpc-id": (eni) => [eni.vpcId],
  "subnet-id": (eni) => [eni.subnetId],
  "group-id": (eni) => eni.groupIds,
  status: (eni) => [eni.status],
  "availability-zone": (eni) => [eni.availabilityZone],
};

export function networkOperations(world: World): Record<string, QueryOperation> {
  return {
    CreateVpc: defineOperation<CreateVpcRequest, CreateVpcResult>(
      CreateVpc$,
      { mutating: true },
      (input, ctx) => {
        const cidrBlock = checkBlock(input.CidrBlock, "InvalidVpc.Range");
        checkTagSpecifications(input.TagSpecifications, ["vpc"]);
        ctx.dryRunGate();
        const vpc = {
          vpcId: world.newId("vpc"),
          cidrBlock,
          tags: tagsFor(input.TagSpecifications, "vpc"),
          visibleAt: world.visibleFrom(),
        };
        world.vpcs.set(vpc.vpcId, vpc);
        // Every VPC comes with its "default" security group.
        const group: SecurityGroup = {
          groupId: world.newId("sg"),
          groupName: "default",
          description: "default VPC security group",
          vpcId: vpc.vpcId,
          ingress: [],
          egress: [defaultEgressRule(world)],
          tags: new Map(),
          visibleAt: vpc.visibleAt,
        };
        group.ingress.push({
          ruleId: world.newId("sgr"),
          ipProtocol: "-1",
          referencedGroupId: group.groupId,
        });
        world.securityGroups.set(group.groupId, group);
        return { Vpc: { ...renderVpc(world, vpc), State: "pending" } };
      },
    ),

    CreateSubnet: defineOperation<CreateSubnetRequest, CreateSubnetResult>(
      CreateSubnet$,
      { mutating: true },
      (input, ctx) => {
        const vpc = find(world, world.vpcs, input.VpcId ?? "");
        const cidrBlock = checkBlock(input.CidrBlock, "InvalidSubnet.Range");
        if ([...world.subnets.values()].some((s) => s.vpcId === vpc.vpcId && s.cidrBlock === cidrBlock)) {
          throw new AwsError(
            "InvalidSubnet.Conflict",
            `The CIDR '${cidrBlock}' conflicts with another subnet`,
          );
        }
        const availabilityZone = input.AvailabilityZone ?? `${world.region}a`;
        if (
          !/^[a-z]{2}-[a-z]+-\d[a-z]$/.test(availabilityZone) ||
          !availabilityZone.startsWith(world.region)
        ) {
          throw new AwsError(
            "InvalidParameterValue",
            `Value (${availabilityZone}) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: ${world.region}a, ${world.region}b, ${world.region}c.`,
          );
        }
        checkTagSpecifications(input.TagSpecifications, ["subnet"]);
        ctx.dryRunGate();
        const zoneLetter = availabilityZone.slice(-1);
        const subnet = {
          subnetId: world.newId("subnet"),
          vpcId: vpc.vpcId,
          availabilityZone,
          availabilityZoneId: `${world.region.slice(0, 3)}${"abcdef".indexOf(zoneLetter) + 1}-az`,
          cidrBlock,
          tags: tagsFor(input.TagSpecifications, "subnet"),
          nextHost: 0,
          visibleAt: world.visibleFrom(),
        };
        world.subnets.set(subnet.subnetId, subnet);
        return { Subnet: renderSubnet(world, subnet) };
      },
    ),

    DescribeVpcs: defineOperation<DescribeVpcsRequest, DescribeVpcsResult>(
      DescribeVpcs$,
      { mutating: false },
      (input) => ({
        Vpcs: selectMatching(world, world.vpcs, input.VpcIds, input.Filters, VPC_FILTERS).map((vpc) =>
          renderVpc(world, vpc),
        ),
      }),
    ),

    DescribeSubnets: defineOperation<DescribeSubnetsRequest, DescribeSubnetsResult>(
      DescribeSubnets$,
      { mutating: false },
      (input) => {
        const { page, nextToken } = describePage(
          world,
          world.subnets,
          input.SubnetIds,
          input,
          SUBNET_FILTERS,
        );
        return { Subnets: page.map((subnet) => renderSubnet(world, subnet)), NextToken: nextToken };
      },
    ),

    DescribeNetworkInterfaces: defineOperation<
      DescribeNetworkInterfacesRequest,
      DescribeNetworkInterfacesResult
    >(DescribeNetworkInterfaces$, { mutating: false }, (input) => {
      const { page, nextToken } = describePage(
        world,
        world.networkInterfaces,
        input.NetworkInterfaceIds,
        input,
        INTERFACE_FILTERS,
      );
      return {
        NetworkInterfaces: page.map((eni) => renderNetworkInterface(world, eni)),
        NextToken: nextToken,
      };
    }),

    ModifyNetworkInterfaceAttribute: defineOperation<ModifyNetworkInterfaceAttributeRequest, void>(
      ModifyNetworkInterfaceAttribute$,
      { mutating: true },
      (input, ctx) => {
        const eni = find(world, world.networkInterfaces, input.NetworkInterfaceId ?? "");
        const groups = input.Groups ?? [];
        const otherChange =
          input.Description !== undefined ||
          input.SourceDestCheck !== undefined ||
          input.Attachment !== undefined;
        if (groups.length === 0 && !otherChange) {
          throw new AwsError("MissingParameter", "The request must contain exactly one attribute to modify");
        }
        // Default quota: 5 security groups per network interface.
        if (new Set(groups).size > 5) {
          throw new AwsError(
            "SecurityGroupsPerInterfaceLimitExceeded",
            "The maximum number of security groups per interface has been reached.",
          );
        }
        for (const groupId of groups) {
          const group = find(world, world.securityGroups, groupId);
          if (group.vpcId !== eni.vpcId) {
            throw new AwsError(
              "InvalidParameterValue",
              `The security group '${groupId}' and the network interface '${eni.networkInterfaceId}' belong to different networks.`,
            );
          }
        }
        ctx.dryRunGate();
        if (groups.length > 0) eni.groupIds = [...new Set(groups)];
        if (input.Description?.Value !== undefined) eni.description = input.Description.Value;
        if (input.Attachment?.DeleteOnTermination !== undefined && eni.attachment) {
          eni.attachment.deleteOnTermination = input.Attachment.DeleteOnTermination;
        }
      },
    ),
  };
}
