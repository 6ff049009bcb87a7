// Instance attributes back as found: termination and stop protection, shutdown behaviour, the metadata service,
// and each volume's DeleteOnTermination. Each is read live first and changed only when it differs (one attribute a
// call, an EC2 rule); one the record does not hold as found is left as it is, and the output says so.
import type { InstanceAttribute, InstanceAttributeName } from "@aws-sdk/client-ec2";

import { change, type ReleaseRun } from "./run";

interface Attribute {
  readonly label: string;
  readonly name: InstanceAttributeName;
  readonly asFound: boolean | string | undefined;
  readonly read: (answer: InstanceAttribute) => boolean | string | undefined;
  readonly parameter: "DisableApiTermination" | "DisableApiStop" | "InstanceInitiatedShutdownBehavior";
}

function attributes(run: ReleaseRun): Attribute[] {
  const asFound = run.instance.asFound ?? {};
  return [
    {
      label: "termination protection",
      name: "disableApiTermination",
      asFound: asFound.disableApiTermination,
      read: (answer) => answer.DisableApiTermination?.Value,
      parameter: "DisableApiTermination",
    },
    {
      label: "shutdown behaviour",
      name: "instanceInitiatedShutdownBehavior",
      asFound: asFound.instanceInitiatedShutdownBehavior,
      read: (answer) => answer.InstanceInitiatedShutdownBehavior?.Value,
      parameter: "InstanceInitiatedShutdownBehavior",
    },
    {
      label: "stop protection",
      name: "disableApiStop",
      // stopInstance records that it turned stop protection off, also on records older than asFound.
      asFound:
        asFound.disableApiStop ?? (run.record.facts.stop?.stopProtectionRemoved === true ? true : undefined),
      read: (answer) => answer.DisableApiStop?.Value,
      parameter: "DisableApiStop",
    },
  ];
}

/** The metadata endpoint as found: recorded by cutAccess, else in the instance description taken at the claim. */
function metadataEndpointAsFound(run: ReleaseRun): string | undefined {
  if (run.instance.asFound?.httpEndpoint !== undefined) return run.instance.asFound.httpEndpoint;
  if (run.record.rawInstance === undefined) return undefined;
  const raw = JSON.parse(run.record.rawInstance) as { MetadataOptions?: { HttpEndpoint?: string } };
  return raw.MetadataOptions?.HttpEndpoint;
}

export async function restoreInstanceAttributes(run: ReleaseRun): Promise<void> {
  if (run.record.steps.cutAccess === undefined) return;
  const { ec2 } = run.context.clients;
  const InstanceId = run.record.instanceId;
  for (const attribute of attributes(run)) {
    if (attribute.asFound === undefined) {
      run.kept.push(`${attribute.label}: left as it is (not recorded as found)`);
      continue;
    }
    const answer = await ec2.describeInstanceAttribute({ InstanceId, Attribute: attribute.name });
    const live = attribute.read(answer);
    if (live !== attribute.asFound) {
      const value = { [attribute.parameter]: { Value: attribute.asFound } };
      await change(run, "ec2:ModifyInstanceAttribute", { InstanceId, ...value }, () =>
        ec2.modifyInstanceAttribute({ InstanceId, ...value }),
      );
    }
    run.undone.push(`${attribute.label}: ${String(attribute.asFound)}`);
  }
  const endpoint = metadataEndpointAsFound(run);
  if (endpoint !== "enabled" && endpoint !== "disabled") {
    run.kept.push("metadata service: left as it is (not recorded as found)");
    return;
  }
  const described = await ec2.describeInstances({ InstanceIds: [InstanceId] });
  const live = described.Reservations?.[0]?.Instances?.[0]?.MetadataOptions?.HttpEndpoint;
  if (live !== endpoint)
    await change(run, "ec2:ModifyInstanceMetadataOptions", { InstanceId, HttpEndpoint: endpoint }, () =>
      ec2.modifyInstanceMetadataOptions({ InstanceId, HttpEndpoint: endpoint }),
    );
  run.undone.push(`metadata service: ${endpoint}`);
}

/** After the volumes are back on their devices (an attachment starts with DeleteOnTermination false). */
export async function restoreDeleteOnTermination(run: ReleaseRun): Promise<void> {
  if (run.record.steps.cutAccess === undefined || run.instance.volumes.length === 0) return;
  const { ec2 } = run.context.clients;
  const InstanceId = run.record.instanceId;
  const described = await ec2.describeInstances({ InstanceIds: [InstanceId] });
  const mappings = described.Reservations?.[0]?.Instances?.[0]?.BlockDeviceMappings ?? [];
  const differing = run.instance.volumes.filter(
    (volume) =>
      mappings.find((mapping) => mapping.DeviceName === volume.deviceName)?.Ebs?.DeleteOnTermination !==
      volume.deleteOnTermination,
  );
  // With --dry-run the volumes are not back yet: their devices would be mapped by the attach planned before.
  const BlockDeviceMappings = differing.map((volume) => ({
    DeviceName: volume.deviceName,
    Ebs: { DeleteOnTermination: volume.deleteOnTermination },
  }));
  if (BlockDeviceMappings.length > 0)
    await change(run, "ec2:ModifyInstanceAttribute", { InstanceId, BlockDeviceMappings }, () =>
      ec2.modifyInstanceAttribute({ InstanceId, BlockDeviceMappings }),
    );
  for (const volume of run.instance.volumes)
    run.undone.push(`${volume.volumeId} DeleteOnTermination: ${String(volume.deleteOnTermination)}`);
}
