// IAM instance profile associations: describe, associate, replace, disassociate (each settling on the simulated
// clock).
import {
  AssociateIamInstanceProfile$,
  DescribeIamInstanceProfileAssociations$,
  DisassociateIamInstanceProfile$,
  ReplaceIamInstanceProfileAssociation$,
  type AssociateIamInstanceProfileRequest,
  type AssociateIamInstanceProfileResult,
  type DescribeIamInstanceProfileAssociationsRequest,
  type DescribeIamInstanceProfileAssociationsResult,
  type DisassociateIamInstanceProfileRequest,
  type DisassociateIamInstanceProfileResult,
  type IamInstanceProfileAssociation as Ec2Association,
  type IamInstanceProfileSpecification,
  type ReplaceIamInstanceProfileAssociationRequest,
  type ReplaceIamInstanceProfileAssociationResult,
} from "@aws-sdk/client-ec2";
import { AwsError } from "../../errors";
import type { IamInstanceProfileAssociation, InstanceProfile } from "../../state/model";
import type { World } from "../../state/world";
import { defineOperation, type QueryOperation } from "../../wire/queryProtocol";
import { filterValuesOf, find, matchesFilters, paginate, toDate, type FilterTable } from "./common";

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

export function profileAssociationOperations(world: World): Record<string, QueryOperation> {
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

    DisassociateIamInstanceProfile: defineOperation<
      DisassociateIamInstanceProfileRequest,
      DisassociateIamInstanceProfileResult
    >(DisassociateIamInstanceProfile$, { mutating: true }, (input, ctx) => {
      const current = world.iamAssociations.get(input.AssociationId ?? "");
      if (!current || current.state === "disassociated") {
        throw new AwsError(
          "InvalidAssociationID.NotFound",
          `An association ID '${input.AssociationId ?? ""}' does not exist`,
        );
      }
      ctx.dryRunGate();
      current.state = "disassociating";
      world.clock.schedule(world.durations.iamAssociationMs, () => {
        if (current.state === "disassociating") current.state = "disassociated";
      });
      return { IamInstanceProfileAssociation: renderAssociation(current) };
    }),
  };
}
