// An instance's serving state as an operator sees it through the API: groups per ENI, profile, metadata service,
// shutdown behaviour, termination and stop protection, volumes on their devices with DeleteOnTermination, state,
// target-group registrations and Auto Scaling membership. Taken before a response and after its release, the two
// must be equal attribute by attribute (the false-positive drill and test/ir/release.test.ts compare them).
import type { AutoScaling } from "@aws-sdk/client-auto-scaling";
import type { EC2 } from "@aws-sdk/client-ec2";
import type { ElasticLoadBalancingV2 } from "@aws-sdk/client-elastic-load-balancing-v2";

export interface InstanceAsSeen {
  state?: string;
  groupsByInterface: Record<string, string[]>;
  instanceProfileArn?: string;
  metadataHttpEndpoint?: string;
  shutdownBehavior?: string;
  terminationProtection?: boolean;
  stopProtection?: boolean;
  /** volume id -> its device and DeleteOnTermination on this instance. */
  volumes: Record<string, { device?: string; deleteOnTermination?: boolean }>;
  /** target group ARN -> the port the instance is registered on (draining or unregistered: absent). */
  targetGroups: Record<string, number | undefined>;
  autoScalingGroup?: string;
}

export interface SeeingClients {
  ec2: EC2;
  elbv2: ElasticLoadBalancingV2;
  autoScaling: AutoScaling;
}

export async function seeInstance(
  clients: SeeingClients,
  instanceId: string,
  targetGroupArns: readonly string[],
): Promise<InstanceAsSeen> {
  const InstanceId = instanceId;
  const described = await clients.ec2.describeInstances({ InstanceIds: [InstanceId] });
  const instance = described.Reservations?.[0]?.Instances?.[0];
  const attribute = (
    Attribute: "disableApiTermination" | "disableApiStop" | "instanceInitiatedShutdownBehavior",
  ) => clients.ec2.describeInstanceAttribute({ InstanceId, Attribute });
  const [termination, stop, shutdown] = await Promise.all([
    attribute("disableApiTermination"),
    attribute("disableApiStop"),
    attribute("instanceInitiatedShutdownBehavior"),
  ]);
  const targetGroups: InstanceAsSeen["targetGroups"] = {};
  for (const TargetGroupArn of targetGroupArns) {
    const health = await clients.elbv2.describeTargetHealth({ TargetGroupArn });
    const ours = health.TargetHealthDescriptions?.find(
      (d) => d.Target?.Id === instanceId && d.TargetHealth?.State !== "draining",
    );
    if (ours !== undefined) targetGroups[TargetGroupArn] = ours.Target?.Port;
  }
  const membership = await clients.autoScaling.describeAutoScalingInstances({ InstanceIds: [InstanceId] });
  return {
    state: instance?.State?.Name,
    groupsByInterface: Object.fromEntries(
      (instance?.NetworkInterfaces ?? []).map((eni) => [
        eni.NetworkInterfaceId ?? "",
        (eni.Groups ?? []).map((group) => group.GroupId ?? "").sort(),
      ]),
    ),
    instanceProfileArn: instance?.IamInstanceProfile?.Arn,
    metadataHttpEndpoint: instance?.MetadataOptions?.HttpEndpoint,
    shutdownBehavior: shutdown.InstanceInitiatedShutdownBehavior?.Value,
    terminationProtection: termination.DisableApiTermination?.Value,
    stopProtection: stop.DisableApiStop?.Value,
    volumes: Object.fromEntries(
      (instance?.BlockDeviceMappings ?? []).map((mapping) => [
        mapping.Ebs?.VolumeId ?? "",
        { device: mapping.DeviceName, deleteOnTermination: mapping.Ebs?.DeleteOnTermination },
      ]),
    ),
    targetGroups,
    autoScalingGroup: membership.AutoScalingInstances?.[0]?.AutoScalingGroupName,
  };
}

/** JSON with object keys sorted, so equal values print alike whatever order the API listed them in (pure). */
function canonical(value: unknown): string {
  if (value === undefined) return "(none)";
  return JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === "object" && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => a.localeCompare(b)))
      : item,
  );
}

/** Each attribute as found and after, and whether they are equal (pure). */
export function compareAttributes(
  found: InstanceAsSeen,
  after: InstanceAsSeen,
): { attribute: string; found: string; after: string; same: boolean }[] {
  const keys = Object.keys({ ...found, ...after }) as (keyof InstanceAsSeen)[];
  return keys.map((key) => {
    const before = canonical(found[key]);
    const now = canonical(after[key]);
    return { attribute: key, found: before, after: now, same: before === now };
  });
}
