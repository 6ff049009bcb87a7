// Launch templates: create one, describe its one version (1, also $Default and $Latest).
import {
  CreateLaunchTemplate$,
  DescribeLaunchTemplateVersions$,
  type CreateLaunchTemplateRequest,
  type CreateLaunchTemplateResult,
  type DescribeLaunchTemplateVersionsRequest,
  type DescribeLaunchTemplateVersionsResult,
} from "@aws-sdk/client-ec2";
import { AwsError } from "../../errors";
import { SSM_IMAGE_PREFIX } from "../../lifecycle/instances";
import type { LaunchTemplate } from "../../state/model";
import type { World } from "../../state/world";
import { defineOperation, type QueryOperation } from "../../wire/queryProtocol";
import { find, notFoundError } from "./common";

export function findLaunchTemplate(
  world: World,
  spec: { LaunchTemplateId?: string; LaunchTemplateName?: string },
): LaunchTemplate {
  const { LaunchTemplateId, LaunchTemplateName } = spec;
  const template = [...world.launchTemplates.values()].find(
    (t) => t.launchTemplateId === LaunchTemplateId || t.launchTemplateName === LaunchTemplateName,
  );
  if (template) return template;
  throw LaunchTemplateId
    ? new AwsError(
        "InvalidLaunchTemplateId.NotFound",
        `The specified launch template, with template ID ${LaunchTemplateId}, does not exist.`,
      )
    : new AwsError(
        "InvalidLaunchTemplateName.NotFoundException",
        `The specified launch template, with template name ${LaunchTemplateName ?? ""}, does not exist.`,
      );
}

/** The simulator keeps one version per template: 1, also reachable as $Default and $Latest. */
export function checkTemplateVersion(template: LaunchTemplate, version: string | undefined): void {
  if (version === undefined || version === "$Default" || version === "$Latest" || version === "1") return;
  throw new AwsError(
    "InvalidLaunchTemplateId.VersionNotFound",
    `Could not find launch template version ${version} for the launch template ${template.launchTemplateId}.`,
  );
}

export function launchTemplateOperations(world: World): Record<string, QueryOperation> {
  return {
    CreateLaunchTemplate: defineOperation<CreateLaunchTemplateRequest, CreateLaunchTemplateResult>(
      CreateLaunchTemplate$,
      { mutating: true },
      (input, ctx) => {
        const name = input.LaunchTemplateName ?? "";
        if (!/^[a-zA-Z0-9().\-/_]{3,128}$/.test(name)) {
          throw new AwsError(
            "InvalidLaunchTemplateName.MalformedException",
            `Launch template name '${name}' is malformed.`,
          );
        }
        if ([...world.launchTemplates.values()].some((t) => t.launchTemplateName === name)) {
          throw new AwsError(
            "InvalidLaunchTemplateName.AlreadyExistsException",
            `Launch template name already in use.`,
          );
        }
        const data = input.LaunchTemplateData ?? {};
        // A Systems Manager parameter is resolved at launch, not here.
        if (data.ImageId && !data.ImageId.startsWith(SSM_IMAGE_PREFIX) && !world.images.has(data.ImageId))
          throw notFoundError(data.ImageId);
        for (const groupId of data.SecurityGroupIds ?? []) find(world, world.securityGroups, groupId);
        ctx.dryRunGate();
        const launchTemplateId = world.newId("lt");
        const tags = new Map<string, string>();
        for (const spec of data.TagSpecifications ?? []) {
          if (spec.ResourceType !== "instance") continue;
          for (const tag of spec.Tags ?? []) if (tag.Key) tags.set(tag.Key, tag.Value ?? "");
        }
        world.launchTemplates.set(launchTemplateId, {
          launchTemplateId,
          launchTemplateName: name,
          imageId: data.ImageId ?? "",
          instanceType: data.InstanceType ?? "m1.small",
          securityGroupIds: data.SecurityGroupIds ?? [],
          instanceProfileArn: data.IamInstanceProfile?.Arn ?? data.IamInstanceProfile?.Name,
          networkInterfaces: data.NetworkInterfaces?.length
            ? data.NetworkInterfaces.map((eni) => ({
                deviceIndex: eni.DeviceIndex ?? 0,
                subnetId: eni.SubnetId,
                groupIds: eni.Groups ?? [],
                associatePublicIpAddress: eni.AssociatePublicIpAddress,
                deleteOnTermination: eni.DeleteOnTermination,
                description: eni.Description,
              }))
            : undefined,
          tags,
          createTime: world.now(),
        });
        return {
          LaunchTemplate: {
            LaunchTemplateId: launchTemplateId,
            LaunchTemplateName: name,
            CreateTime: new Date(world.now()),
            CreatedBy: `arn:aws:iam::${world.accountId}:root`,
            DefaultVersionNumber: 1,
            LatestVersionNumber: 1,
          },
        };
      },
    ),

    DescribeLaunchTemplateVersions: defineOperation<
      DescribeLaunchTemplateVersionsRequest,
      DescribeLaunchTemplateVersionsResult
    >(DescribeLaunchTemplateVersions$, { mutating: false }, (input) => {
      const template = findLaunchTemplate(world, input);
      const versions = input.Versions?.length ? input.Versions : ["$Latest"];
      for (const version of versions) checkTemplateVersion(template, version);
      const profile = template.instanceProfileArn;
      return {
        LaunchTemplateVersions: [
          {
            LaunchTemplateId: template.launchTemplateId,
            LaunchTemplateName: template.launchTemplateName,
            VersionNumber: 1,
            DefaultVersion: true,
            CreateTime: new Date(template.createTime),
            CreatedBy: `arn:aws:iam::${world.accountId}:root`,
            LaunchTemplateData: {
              // As stored: a Systems Manager parameter stays one (ResolveAlias is not modelled).
              ImageId: template.imageId,
              InstanceType: template.instanceType as never,
              SecurityGroupIds: template.securityGroupIds.length ? template.securityGroupIds : undefined,
              IamInstanceProfile:
                profile === undefined
                  ? undefined
                  : profile.startsWith("arn:")
                    ? { Arn: profile }
                    : { Name: profile },
              NetworkInterfaces: template.networkInterfaces?.map((eni) => ({
                DeviceIndex: eni.deviceIndex,
                SubnetId: eni.subnetId,
                Groups: eni.groupIds,
                AssociatePublicIpAddress: eni.associatePublicIpAddress,
                DeleteOnTermination: eni.deleteOnTermination,
                Description: eni.description,
              })),
              TagSpecifications: template.tags.size
                ? [
                    {
                      ResourceType: "instance",
                      Tags: [...template.tags].map(([Key, Value]) => ({ Key, Value })),
                    },
                  ]
                : undefined,
            },
          },
        ],
      };
    }),
  };
}
