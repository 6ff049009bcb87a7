// Instance attributes: DescribeInstanceAttribute and ModifyInstanceAttribute (one attribute a call), and the
// instance metadata options.
import {
  DescribeInstanceAttribute$,
  ModifyInstanceAttribute$,
  ModifyInstanceMetadataOptions$,
  type DescribeInstanceAttributeRequest,
  type InstanceAttribute,
  type ModifyInstanceAttributeRequest,
  type ModifyInstanceMetadataOptionsRequest,
  type ModifyInstanceMetadataOptionsResult,
} from "@aws-sdk/client-ec2";
import { AwsError } from "../../errors";
import type { Instance as SimInstance } from "../../state/model";
import type { World } from "../../state/world";
import { defineOperation, type QueryOperation } from "../../wire/queryProtocol";
import { find } from "./common";

/** The attributes DescribeInstanceAttribute serves here (EC2 knows more; a request for another is refused). */
const DESCRIBED_ATTRIBUTES: Readonly<Record<string, (instance: SimInstance) => InstanceAttribute>> = {
  disableApiTermination: (instance) => ({ DisableApiTermination: { Value: instance.disableApiTermination } }),
  disableApiStop: (instance) => ({ DisableApiStop: { Value: instance.disableApiStop } }),
  instanceInitiatedShutdownBehavior: (instance) => ({
    InstanceInitiatedShutdownBehavior: { Value: instance.shutdownBehavior },
  }),
};

export function instanceAttributeOperations(world: World): Record<string, QueryOperation> {
  return {
    // One attribute a call, as EC2 answers it: the instance id and that attribute's value.
    DescribeInstanceAttribute: defineOperation<DescribeInstanceAttributeRequest, InstanceAttribute>(
      DescribeInstanceAttribute$,
      { mutating: false },
      (input) => {
        const instance = find(world, world.instances, input.InstanceId ?? "");
        const describe = DESCRIBED_ATTRIBUTES[input.Attribute ?? ""];
        if (describe === undefined) {
          throw new AwsError(
            "InvalidParameterValue",
            `Value (${input.Attribute ?? ""}) for parameter attribute is invalid. Unknown attribute.`,
          );
        }
        return { InstanceId: instance.instanceId, ...describe(instance) };
      },
    ),
    ModifyInstanceAttribute: defineOperation<ModifyInstanceAttributeRequest, void>(
      ModifyInstanceAttribute$,
      { mutating: true },
      (input, ctx) => {
        const instance = find(world, world.instances, input.InstanceId ?? "");
        if (instance.state === "terminated") {
          throw new AwsError(
            "IncorrectInstanceState",
            `The instance '${instance.instanceId}' is not in a valid state for this operation.`,
          );
        }
        const changes: (() => void)[] = [];
        if (input.DisableApiTermination?.Value !== undefined) {
          // "You can't enable termination protection for Spot Instances" (ModifyInstanceAttribute); EC2's answer.
          if (instance.market !== "on-demand") {
            throw new AwsError(
              "UnsupportedOperation",
              "Modifying 'disableApiTermination' is not supported for spot instances.",
            );
          }
          const value = input.DisableApiTermination.Value;
          changes.push(() => (instance.disableApiTermination = value));
        }
        if (input.DisableApiStop?.Value !== undefined) {
          const value = input.DisableApiStop.Value;
          changes.push(() => (instance.disableApiStop = value));
        }
        if (input.InstanceInitiatedShutdownBehavior?.Value !== undefined) {
          const value = input.InstanceInitiatedShutdownBehavior.Value;
          if (value !== "stop" && value !== "terminate") {
            throw new AwsError(
              "InvalidParameterValue",
              `Value (${value}) for parameter instanceInitiatedShutdownBehavior is invalid.`,
            );
          }
          changes.push(() => (instance.shutdownBehavior = value));
        }
        for (const mapping of input.BlockDeviceMappings ?? []) {
          const link = instance.blockDevices.find((b) => b.deviceName === mapping.DeviceName);
          if (!link) {
            throw new AwsError(
              "InvalidInstanceAttributeValue",
              `No device is currently mapped at ${mapping.DeviceName ?? ""}`,
            );
          }
          const deleteOnTermination = mapping.Ebs?.DeleteOnTermination;
          if (deleteOnTermination === undefined) continue;
          changes.push(() => {
            const attachment = world.volumes.get(link.volumeId)?.attachment;
            if (attachment) attachment.deleteOnTermination = deleteOnTermination;
          });
        }
        if (input.Groups?.length) {
          const groups = input.Groups;
          // As in EC2: the call changes the groups of the instance's one interface; with several attached it is
          // refused (ModifyNetworkInterfaceAttribute must name the interface).
          if (instance.networkInterfaceIds.length > 1) {
            throw new AwsError(
              "InvalidInstanceID",
              `There are multiple interfaces attached to instance '${instance.instanceId}'. Please specify an interface ID for the operation instead.`,
            );
          }
          for (const groupId of groups) find(world, world.securityGroups, groupId);
          changes.push(() => {
            const primary = world.networkInterfaces.get(instance.networkInterfaceIds[0] ?? "");
            if (primary) primary.groupIds = [...groups];
          });
        }
        if (input.InstanceType?.Value !== undefined) {
          const value = input.InstanceType.Value;
          if (instance.state !== "stopped") {
            throw new AwsError(
              "IncorrectInstanceState",
              `The instance '${instance.instanceId}' is not in the 'stopped' state.`,
            );
          }
          changes.push(() => (instance.instanceType = value));
        }
        if (changes.length === 0) {
          throw new AwsError("MissingParameter", "The request must contain exactly one attribute to modify");
        }
        // EC2 modifies one attribute per call (all block-device mappings count as one).
        const attributes = [
          input.DisableApiTermination,
          input.DisableApiStop,
          input.InstanceInitiatedShutdownBehavior,
          input.BlockDeviceMappings?.length ? input.BlockDeviceMappings : undefined,
          input.Groups?.length ? input.Groups : undefined,
          input.InstanceType,
        ].filter((attribute) => attribute !== undefined);
        if (attributes.length > 1) {
          throw new AwsError("InvalidParameterCombination", "Only one attribute may be modified at a time.");
        }
        ctx.dryRunGate();
        for (const change of changes) change();
      },
    ),

    ModifyInstanceMetadataOptions: defineOperation<
      ModifyInstanceMetadataOptionsRequest,
      ModifyInstanceMetadataOptionsResult
    >(ModifyInstanceMetadataOptions$, { mutating: true }, (input, ctx) => {
      const instance = find(world, world.instances, input.InstanceId ?? "");
      const hopLimit = input.HttpPutResponseHopLimit;
      if (hopLimit !== undefined && (hopLimit < 1 || hopLimit > 64)) {
        throw new AwsError(
          "InvalidParameterValue",
          `Value (${hopLimit}) for parameter httpPutResponseHopLimit is invalid. Must be between 1 and 64.`,
        );
      }
      ctx.dryRunGate();
      const options = instance.metadataOptions;
      if (input.HttpTokens) options.httpTokens = input.HttpTokens;
      if (input.HttpEndpoint) options.httpEndpoint = input.HttpEndpoint;
      if (hopLimit !== undefined) options.httpPutResponseHopLimit = hopLimit;
      if (input.InstanceMetadataTags) options.instanceMetadataTags = input.InstanceMetadataTags;
      return {
        InstanceId: instance.instanceId,
        InstanceMetadataOptions: {
          State: "pending",
          HttpTokens: options.httpTokens,
          HttpEndpoint: options.httpEndpoint,
          HttpPutResponseHopLimit: options.httpPutResponseHopLimit,
          InstanceMetadataTags: options.instanceMetadataTags,
          HttpProtocolIpv6: "disabled",
        },
      };
    }),
  };
}
