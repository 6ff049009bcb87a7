// EC2 actions on instance-profile associations, and CreateTags.
import {
  AssociateIamInstanceProfile$,
  CreateTags$,
  DescribeIamInstanceProfileAssociations$,
  ReplaceIamInstanceProfileAssociation$,
  type AssociateIamInstanceProfileRequest,
  type AssociateIamInstanceProfileResult,
  type CreateTagsRequest,
  type DescribeIamInstanceProfileAssociationsRequest,
  type DescribeIamInstanceProfileAssociationsResult,
  type IamInstanceProfileAssociation as Ec2Association,
  type IamInstanceProfileSpecification,
  type ReplaceIamInstanceProfileAssociationRequest,
  type ReplaceIamInstanceProfileAssociationResult,
} from "@aws-sdk/client-ec2";
import { AwsError } from "../../errors";
import type { IamInstanceProfileAssociation, InstanceProfile, Tags, Visible } from "../../state/model";
import type { World } from "../../state/world";
import { defineOperation, type QueryOperation } from "../../wire/queryProtocol";
import {
  checkTagKey,
  filterValuesOf,
  find,
  matchesFilters,
  paginate,
  toDate,
  type FilterTable,
} from "./common";

function renderAssociation(association: IamInstanceProfileAssociation): Ec2Association {
  return {
    AssociationId: association.associationId,
    InstanceId: association.instanceId,
    IamInstanceProfile: { Arn: association.instanceProfileArn, Id: association.instanceProfileId },
    State: association.state,
    Timestamp: toDate(association.timestamp),
  };
}

const ASSOCIATION_FILTERS: FilterTable<IamInstanceProfileAssociation> = {
  "instance-id": (association) => [association.instanceId],
  state: (association) => [association.state],
};

function resolveProfile(world: World, spec: IamInstanceProfileSpecification | undefined): InstanceProfile {
  const arnOrName = spec?.Arn ?? spec?.Name;
  if (!arnOrName)
    throw new AwsError("MissingParameter", "The request must contain the parameter IamInstanceProfile");
  const profile = world.instanceProfileByArnOrName(arnOrName);
  if (!profile) {
    const field = spec?.Arn ? "arn" : "name";
    throw new AwsError(
      "InvalidParameterValue",
      `Value (${arnOrName}) for parameter iamInstanceProfile.${field} is invalid. Invalid IAM Instance Profile ${field === "arn" ? "ARN" : "name"}`,
    );
  }
  return profile;
}

function newAssociation(
  world: World,
  instanceId: string,
  profile: InstanceProfile,
): IamInstanceProfileAssociation {
  const association: IamInstanceProfileAssociation = {
    associationId: world.newId("iip-assoc"),
    instanceId,
    instanceProfileArn: profile.arn,
    instanceProfileId: profile.instanceProfileId,
    state: "associating",
    timestamp: world.now(),
  };
  world.iamAssociations.set(association.associationId, association);
  world.clock.schedule(world.durations.iamAssociationMs, () => {
    if (association.state === "associating") association.state = "associated";
  });
  return association;
}

/** The tag map of any taggable resource, by id prefix. */
function taggable(world: World, id: string): { tags: Tags } {
  const prefix = id.split("-")[0];
  const maps: Record<string, Map<string, Visible & { tags: Tags }>> = {
    i: world.instances,
    vol: world.volumes,
    snap: world.snapshots,
    sg: world.securityGroups,
    eni: world.networkInterfaces,
    subnet: world.subnets,
    vpc: world.vpcs,
  };
  if (prefix === "ami") {
    const image = world.images.get(id);
    if (!image) throw new AwsError("InvalidAMIID.NotFound", `The image id '[${id}]' does not exist`);
    return image;
  }
  const map = prefix !== undefined ? maps[prefix] : undefined;
  if (!map) throw new AwsError("InvalidID", `The ID '${id}' is not valid`);
  return find(world, map, id);
}

export function iamAndTagOperations(world: World): Record<string, QueryOperation> {
  return {
    DescribeIamInstanceProfileAssociations: defineOperation<
      DescribeIamInstanceProfileAssociationsRequest,
      DescribeIamInstanceProfileAssociationsResult
    >(DescribeIamInstanceProfileAssociations$, { mutating: false }, (input) => {
      const ids = input.AssociationIds ?? [];
      for (const id of ids) {
        if (!world.iamAssociations.has(id)) {
          throw new AwsError("InvalidAssociationID.NotFound", `An association ID '${id}' does not exist`);
        }
      }
      const associations = [...world.iamAssociations.values()].filter(
        (a) =>
          (ids.length === 0 || ids.includes(a.associationId)) &&
          matchesFilters(input.Filters, filterValuesOf(ASSOCIATION_FILTERS, a)),
      );
      const { page, nextToken } = paginate(associations, input.MaxResults, input.NextToken);
      return { IamInstanceProfileAssociations: page.map(renderAssociation), NextToken: nextToken };
    }),

    AssociateIamInstanceProfile: defineOperation<
      AssociateIamInstanceProfileRequest,
      AssociateIamInstanceProfileResult
    >(AssociateIamInstanceProfile$, { mutating: true }, (input, ctx) => {
      const instance = find(world, world.instances, input.InstanceId ?? "");
      const profile = resolveProfile(world, input.IamInstanceProfile);
      if (instance.state !== "running" && instance.state !== "stopped" && instance.state !== "pending") {
        throw new AwsError(
          "IncorrectInstanceState",
          `The instance '${instance.instanceId}' is not in a valid state for this operation.`,
        );
      }
      if (world.iamAssociationFor(instance.instanceId)) {
        throw new AwsError(
          "IncorrectState",
          `There is an existing association for instance ${instance.instanceId}`,
        );
      }
      ctx.dryRunGate();
      return {
        IamInstanceProfileAssociation: renderAssociation(newAssociation(world, instance.instanceId, profile)),
      };
    }),

    ReplaceIamInstanceProfileAssociation: defineOperation<
      ReplaceIamInstanceProfileAssociationRequest,
      ReplaceIamInstanceProfileAssociationResult
    >(ReplaceIamInstanceProfileAssociation$, { mutating: true }, (input, ctx) => {
      const current = world.iamAssociations.get(input.AssociationId ?? "");
      if (!current || current.state === "disassociated") {
        throw new AwsError(
          "InvalidAssociationID.NotFound",
          `An association ID '${input.AssociationId ?? ""}' does not exist`,
        );
      }
      const profile = resolveProfile(world, input.IamInstanceProfile);
      ctx.dryRunGate();
      current.state = "disassociated";
      return {
        IamInstanceProfileAssociation: renderAssociation(newAssociation(world, current.instanceId, profile)),
      };
    }),

    CreateTags: defineOperation<CreateTagsRequest, void>(CreateTags$, { mutating: true }, (input, ctx) => {
      const tags = input.Tags ?? [];
      for (const tag of tags) checkTagKey(tag.Key);
      const targets = (input.Resources ?? []).map((id) => taggable(world, id));
      for (const target of targets) {
        const keys = new Set([...target.tags.keys(), ...tags.map((t) => t.Key ?? "")]);
        if (keys.size > 50)
          throw new AwsError("TagLimitExceeded", "The maximum number of tags (50) has been reached.");
      }
      ctx.dryRunGate();
      for (const target of targets) for (const tag of tags) target.tags.set(tag.Key ?? "", tag.Value ?? "");
    }),
  };
}
