// CreateTags on any EC2 resource, found by its id's prefix.
import { CreateTags$, type CreateTagsRequest } from "@aws-sdk/client-ec2";
import { AwsError } from "../../errors";
import type { Tags, Visible } from "../../state/model";
import type { World } from "../../state/world";
import { defineOperation, type QueryOperation } from "../../wire/queryProtocol";
import { checkTagKey, find } from "./common";

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

export function tagOperations(world: World): Record<string, QueryOperation> {
  return {
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
