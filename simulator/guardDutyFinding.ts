// The one builder of a GuardDuty EC2 finding (schema 2.0, the shape of test/fixtures/events). Its input is the EC2
// API's own Instance shape: the simulator renders an instance of its state into it, the drill describes a real one.
import { randomBytes } from "node:crypto";
import type { Instance } from "@aws-sdk/client-ec2";
import type { GuardDutyEvent } from "./api";

/** The finding type and severity used unless a caller asks for others. */
export const DEFAULT_FINDING = { type: "CryptoCurrency:EC2/BitcoinTool.B!DNS", severity: 8 } as const;

/** What a finding says beyond the instance: where, what and when, and how GuardDuty words it. */
export interface FindingFacts {
  accountId: string;
  region: string;
  type?: string;
  severity?: number;
  /** 32 hex digits; random unless given. */
  findingId?: string;
  detectorId?: string;
  /** When GuardDuty saw the activity, ISO 8601 (default: now). */
  seenAt?: string;
  /** The DNS request the finding reports (its action is a DNS_REQUEST). */
  domain?: string;
  additionalInfo?: Record<string, unknown>;
  title?: string;
  description?: string;
}

/** GuardDuty's `resource.instanceDetails` for an instance as DescribeInstances answers it. */
export function instanceDetailsOf(
  instance: Instance,
  image?: { description: string },
): Record<string, unknown> {
  return {
    instanceId: instance.InstanceId ?? "",
    instanceType: instance.InstanceType,
    outpostArn: instance.OutpostArn ?? null,
    launchTime: instance.LaunchTime?.toISOString(),
    platform: instance.Platform ?? null,
    productCodes: [],
    iamInstanceProfile: instance.IamInstanceProfile
      ? { arn: instance.IamInstanceProfile.Arn, id: instance.IamInstanceProfile.Id }
      : null,
    networkInterfaces: (instance.NetworkInterfaces ?? []).map((eni) => ({
      ipv6Addresses: (eni.Ipv6Addresses ?? []).map((a) => a.Ipv6Address),
      networkInterfaceId: eni.NetworkInterfaceId,
      privateDnsName: eni.PrivateDnsName ?? "",
      privateIpAddress: eni.PrivateIpAddress,
      privateIpAddresses: (eni.PrivateIpAddresses ?? []).map((a) => ({
        privateDnsName: a.PrivateDnsName ?? "",
        privateIpAddress: a.PrivateIpAddress,
      })),
      subnetId: eni.SubnetId,
      vpcId: eni.VpcId,
      securityGroups: (eni.Groups ?? []).map((g) => ({ groupName: g.GroupName ?? "", groupId: g.GroupId })),
      publicDnsName: eni.Association?.PublicDnsName ?? "",
      publicIp: eni.Association?.PublicIp ?? null,
    })),
    tags: (instance.Tags ?? []).map((t) => ({ key: t.Key, value: t.Value })),
    instanceState: instance.State?.Name,
    availabilityZone: instance.Placement?.AvailabilityZone,
    imageId: instance.ImageId,
    ...(image && { imageDescription: image.description }),
  };
}

/** The `detail` of a GuardDuty EC2 finding about the instance whose details are given. */
export function guardDutyFindingDetail(
  instanceDetails: Record<string, unknown>,
  facts: FindingFacts,
): GuardDutyEvent["detail"] {
  const { accountId, region } = facts;
  const type = facts.type ?? DEFAULT_FINDING.type;
  const findingId = facts.findingId ?? randomBytes(16).toString("hex");
  // GuardDuty's sample detector id, as in its sample findings.
  const detectorId = facts.detectorId ?? "12abc34d567e8fa901bc2d34e56789f0";
  const seenAt = facts.seenAt ?? new Date().toISOString();
  const summary = `EC2 instance ${String(instanceDetails.instanceId)} is showing ${type}.`;
  return {
    schemaVersion: "2.0",
    accountId,
    region,
    partition: "aws",
    id: findingId,
    arn: `arn:aws:guardduty:${region}:${accountId}:detector/${detectorId}/finding/${findingId}`,
    type,
    resource: { resourceType: "Instance", instanceDetails },
    service: {
      serviceName: "guardduty",
      detectorId,
      action: {
        actionType: "DNS_REQUEST",
        dnsRequestAction: {
          domain: facts.domain ?? "pool.example-mining.net",
          protocol: "UDP",
          blocked: false,
        },
      },
      resourceRole: "ACTOR",
      additionalInfo: facts.additionalInfo ?? { value: "{}", type: "default" },
      eventFirstSeen: seenAt,
      eventLastSeen: seenAt,
      archived: false,
      count: 1,
    },
    severity: facts.severity ?? DEFAULT_FINDING.severity,
    createdAt: seenAt,
    updatedAt: seenAt,
    title: facts.title ?? summary,
    description: facts.description ?? summary,
  };
}
