// A drill starts like a real incident: a GuardDuty-shaped finding about a live instance reaches the default event
// bus, and the stack's rule hands it to the responder. Only instances tagged ir:drill=true are drill targets.
import { randomBytes } from "crypto";
import { DescribeInstancesCommand, EC2Client, type Instance } from "@aws-sdk/client-ec2";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { TAG_DRILL } from "../handler/tags";
import { DRILL_SOURCE, FINDING_DETAIL_TYPE } from "../infra/eventPattern";

/** The tag the responder requires on a drill's instance (handler/tags.ts): one constant for both sides. */
export const DRILL_TAG = TAG_DRILL;

export interface DrillFindingOptions {
  type: string;
  severity: number;
}

export const DEFAULT_DRILL_FINDING: DrillFindingOptions = {
  type: "CryptoCurrency:EC2/BitcoinTool.B!DNS",
  severity: 8,
};

export class DrillRefusedError extends Error {
  override readonly name = "DrillRefusedError";
}

/** The `detail` of a GuardDuty EC2 finding (schema 2.0, as in test/fixtures/events) about this instance. */
export function findingDetailFor(
  instance: Instance,
  accountId: string,
  region: string,
  options: DrillFindingOptions,
  findingId: string = randomBytes(16).toString("hex"),
): Record<string, unknown> {
  const now = new Date().toISOString();
  const detectorId = "drill";
  const instanceId = instance.InstanceId ?? "";
  return {
    schemaVersion: "2.0",
    accountId,
    region,
    partition: "aws",
    id: findingId,
    arn: `arn:aws:guardduty:${region}:${accountId}:detector/${detectorId}/finding/${findingId}`,
    type: options.type,
    resource: {
      resourceType: "Instance",
      instanceDetails: {
        instanceId,
        instanceType: instance.InstanceType,
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
          securityGroups: (eni.Groups ?? []).map((g) => ({ groupName: g.GroupName, groupId: g.GroupId })),
          publicDnsName: eni.Association?.PublicDnsName ?? "",
          publicIp: eni.Association?.PublicIp ?? null,
        })),
        tags: (instance.Tags ?? []).map((t) => ({ key: t.Key, value: t.Value })),
        instanceState: instance.State?.Name,
        availabilityZone: instance.Placement?.AvailabilityZone,
        imageId: instance.ImageId,
      },
    },
    service: {
      serviceName: "guardduty",
      detectorId,
      action: {
        actionType: "DNS_REQUEST",
        dnsRequestAction: { domain: "drill.invalid", protocol: "UDP", blocked: false },
      },
      resourceRole: "ACTOR",
      additionalInfo: { value: '{"drill":true}', type: "default" },
      eventFirstSeen: now,
      eventLastSeen: now,
      archived: false,
      count: 1,
    },
    severity: options.severity,
    createdAt: now,
    updatedAt: now,
    title: `Drill: ${options.type} on ${instanceId}`,
    description: `Drill finding for ${instanceId}, put on the event bus by npm run drill.`,
  };
}

/** Describes the target, refuses it unless tagged ir:drill=true, and puts the finding on the default bus. */
export async function putDrillFinding(
  ec2: EC2Client,
  events: EventBridgeClient,
  instanceId: string,
  region: string,
  options: DrillFindingOptions = DEFAULT_DRILL_FINDING,
): Promise<{ accountId: string; detail: Record<string, unknown> }> {
  const answer = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  const reservation = answer.Reservations?.[0];
  const instance = reservation?.Instances?.[0];
  if (!reservation || !instance) throw new DrillRefusedError(`instance ${instanceId} does not exist`);
  const tagged = (instance.Tags ?? []).some((t) => t.Key === DRILL_TAG && t.Value === "true");
  if (!tagged) {
    throw new DrillRefusedError(
      `instance ${instanceId} is not a drill target: tag it ${DRILL_TAG}=true (the responder ignores drills on other instances)`,
    );
  }
  const accountId = reservation.OwnerId ?? "";
  const detail = findingDetailFor(instance, accountId, region, options);
  const put = await events.send(
    new PutEventsCommand({
      Entries: [{ Source: DRILL_SOURCE, DetailType: FINDING_DETAIL_TYPE, Detail: JSON.stringify(detail) }],
    }),
  );
  const failure = put.Entries?.find((e) => e.ErrorCode);
  if (put.FailedEntryCount || failure) {
    throw new Error(`EventBridge refused the drill finding: ${failure?.ErrorCode}: ${failure?.ErrorMessage}`);
  }
  return { accountId, detail };
}
