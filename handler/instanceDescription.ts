import type { Instance } from "@aws-sdk/client-ec2";

import type { AwsClients } from "./awsClients";
import { InstanceGoneError } from "./errors";
import type { InstanceFacts } from "./incidentRecord";
import { askWhileThrottled, CONTAINMENT_THROTTLED_WINDOW_MS, jitteredMs } from "./throttling";

/**
 * The pause between two throttled rounds of the containment's describe (pure; `random` in [0, 1)). It asks for
 * CONTAINMENT_THROTTLED_WINDOW_MS: in a burst it is the live check every response waits for before its execution.
 */
export function throttledDescribePauseMs(random: number = Math.random()): number {
  return jitteredMs(250, 500, random);
}

/**
 * DescribeInstances for one instance; undefined when EC2 no longer knows it. Asked by filter rather than by
 * InstanceIds: EC2 charges a DescribeInstances with neither a filter nor a page size to its smaller "unfiltered and
 * unpaginated" bucket (50 tokens, refilled at 10 a second) instead of the non-mutating one (100, 20), and a filter
 * that matches nothing answers an empty list where InstanceIds answers InvalidInstanceID.NotFound. The containment
 * (`whileThrottled`) asks again while throttled instead of giving up after the SDK's attempts.
 */
export async function describeInstance(
  aws: AwsClients,
  instanceId: string,
  { whileThrottled = false } = {},
): Promise<Instance | undefined> {
  const request = { Filters: [{ Name: "instance-id", Values: [instanceId] }] };
  const answer = whileThrottled
    ? await askWhileThrottled(
        () => aws.ec2Unretried.describeInstances(request),
        CONTAINMENT_THROTTLED_WINDOW_MS,
        throttledDescribePauseMs,
      )
    : await aws.ec2.describeInstances(request);
  return answer.Reservations?.[0]?.Instances?.[0];
}

/** Like describeInstance, for steps that cannot go on without the instance: a gone instance is a typed error. */
export async function requireInstance(
  aws: AwsClients,
  instanceId: string,
  options: { whileThrottled?: boolean } = {},
): Promise<Instance> {
  const instance = await describeInstance(aws, instanceId, options);
  if (instance === undefined) throw new InstanceGoneError(instanceId);
  return instance;
}

export function tagsOf(
  tags: readonly { Key?: string; Value?: string }[] | undefined,
): Record<string, string> {
  const map: Record<string, string> = {};
  for (const tag of tags ?? []) if (tag.Key !== undefined) map[tag.Key] = tag.Value ?? "";
  return map;
}

/**
 * The facts of a DescribeInstances answer the response keeps (pure). The metadata service as found is read here
 * (the containment's describe, before cutAccess turns it off); the attributes only DescribeInstanceAttribute
 * shows are added by cutAccess (steps/cutAccess/asFound.ts).
 */
export function instanceFactsOf(instance: Instance): InstanceFacts {
  const tags = tagsOf(instance.Tags);
  const httpEndpoint = instance.MetadataOptions?.HttpEndpoint;
  // EC2 records the launch template an instance came from in these system tags.
  const launchTemplateId = tags["aws:ec2launchtemplate:id"];
  return {
    instanceType: instance.InstanceType ?? "unknown",
    state: instance.State?.Name ?? "unknown",
    availabilityZone: instance.Placement?.AvailabilityZone ?? "unknown",
    subnetId: instance.SubnetId,
    vpcId: instance.VpcId,
    imageId: instance.ImageId,
    rootDeviceType: instance.RootDeviceType ?? "ebs",
    rootDeviceName: instance.RootDeviceName,
    instanceLifecycle: instance.InstanceLifecycle,
    spotInstanceRequestId: instance.SpotInstanceRequestId,
    hibernationConfigured: instance.HibernationOptions?.Configured === true,
    keyName: instance.KeyName,
    launchTemplate:
      launchTemplateId === undefined
        ? undefined
        : { id: launchTemplateId, version: tags["aws:ec2launchtemplate:version"] },
    iamInstanceProfileArn: instance.IamInstanceProfile?.Arn,
    tags,
    networkInterfaces: (instance.NetworkInterfaces ?? [])
      .slice()
      .sort((a, b) => (a.Attachment?.DeviceIndex ?? 0) - (b.Attachment?.DeviceIndex ?? 0))
      .flatMap((eni) =>
        eni.NetworkInterfaceId === undefined
          ? []
          : [
              {
                networkInterfaceId: eni.NetworkInterfaceId,
                vpcId: eni.VpcId ?? instance.VpcId ?? "unknown",
                subnetId: eni.SubnetId,
                originalGroupIds: (eni.Groups ?? []).flatMap((group) =>
                  group.GroupId ? [group.GroupId] : [],
                ),
              },
            ],
      ),
    volumes: (instance.BlockDeviceMappings ?? []).flatMap((mapping) =>
      mapping.Ebs?.VolumeId === undefined || mapping.DeviceName === undefined
        ? []
        : [
            {
              volumeId: mapping.Ebs.VolumeId,
              deviceName: mapping.DeviceName,
              deleteOnTermination: mapping.Ebs.DeleteOnTermination === true,
            },
          ],
    ),
    asFound: httpEndpoint === "enabled" || httpEndpoint === "disabled" ? { httpEndpoint } : {},
  };
}
