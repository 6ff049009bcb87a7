// Building the checks of one request: ARNs in the Service Authorization Reference's formats, each resource with its
// tags and the request's condition keys, read from the request's parameters as the wire decoded them.
import type { Tags } from "../state/model";
import type { World } from "../state/world";
import type { AuthorizationCheck } from "./authorizer";

export type Context = Record<string, string | string[]>;
export type Params = Record<string, unknown>;

export const list = (value: unknown): unknown[] =>
  Array.isArray(value) ? value : value === undefined ? [] : [value];
export const text = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);
export const texts = (value: unknown): string[] =>
  list(value).filter((v): v is string => typeof v === "string");
export const record = (value: unknown): Params =>
  value && typeof value === "object" ? (value as Params) : {};

export function tagContext(tags: Tags | undefined, ...prefixes: string[]): Context {
  const context: Context = {};
  for (const [key, value] of tags ?? []) for (const prefix of prefixes) context[`${prefix}${key}`] = value;
  return context;
}

/** aws:RequestTag/* and aws:TagKeys for tags a request sets. */
export function requestTagContext(tags: [string, string][]): Context {
  if (tags.length === 0) return {};
  return {
    ...Object.fromEntries(tags.map(([key, value]) => [`aws:RequestTag/${key}`, value])),
    "aws:TagKeys": tags.map(([key]) => key),
  };
}

export function tagPairs(value: unknown): [string, string][] {
  return list(value).flatMap((tag) => {
    const { Key, Value } = record(tag);
    return typeof Key === "string" ? [[Key, text(Value) ?? ""] as [string, string]] : [];
  });
}

/** TagSpecifications of a create call: the tags requested for resources of one type. */
export function specifiedTags(params: Params, resourceType: string): [string, string][] {
  return list(params.TagSpecifications).flatMap((spec) => {
    const { ResourceType, Tags: specTags } = record(spec);
    return ResourceType === resourceType ? tagPairs(specTags) : [];
  });
}

/** EC2 resources by id prefix: the resource type their ARN names, and where the world keeps them. */
const EC2_RESOURCES = new Map<string, [type: string, kept: (world: World) => Map<string, { tags: Tags }>]>([
  ["i", ["instance", (world) => world.instances]],
  ["vol", ["volume", (world) => world.volumes]],
  ["snap", ["snapshot", (world) => world.snapshots]],
  ["sg", ["security-group", (world) => world.securityGroups]],
  ["eni", ["network-interface", (world) => world.networkInterfaces]],
  ["subnet", ["subnet", (world) => world.subnets]],
  ["vpc", ["vpc", (world) => world.vpcs]],
  ["ami", ["image", (world) => world.images]],
  ["lt", ["launch-template", (world) => world.launchTemplates]],
]);

/** Builds the checks of one request: ARNs in AWS's formats, each resource with its own tags. */
export class RequestChecks {
  readonly checks: AuthorizationCheck[] = [];

  constructor(
    private readonly world: World,
    private readonly base: Context,
  ) {}

  add(action: string, resource: string, context: Context = {}): this {
    this.checks.push({ action, resource, context: { ...this.base, ...context } });
    return this;
  }

  ec2Arn(type: string, id: string): string {
    // Snapshots and AMIs are shareable across accounts: their ARNs carry no account id.
    const account = type === "snapshot" || type === "image" ? "" : this.world.accountId;
    return `arn:aws:ec2:${this.world.region}:${account}:${type}/${id}`;
  }

  /** An existing EC2 resource, found by its id's prefix, with its tags as aws:ResourceTag and ec2:ResourceTag. */
  ec2Resource(action: string, id: string, extra: Context = {}): this {
    const [type, tags] = this.ec2TypeAndTags(id);
    return this.add(action, this.ec2Arn(type, id), {
      ...tagContext(tags, "aws:ResourceTag/", "ec2:ResourceTag/"),
      ...extra,
    });
  }

  /** A resource the request creates: AWS evaluates `type/*` with the tags requested for it. */
  ec2Created(action: string, type: string, tags: [string, string][], extra: Context = {}): this {
    const resource = this.ec2Arn(type, "*");
    this.add(action, resource, { ...requestTagContext(tags), ...extra });
    // Tagging on create is authorized as ec2:CreateTags with ec2:CreateAction naming the create call.
    if (tags.length > 0)
      this.add("ec2:CreateTags", resource, {
        ...requestTagContext(tags),
        "ec2:CreateAction": action.slice(4),
      });
    return this;
  }

  passRole(profileArnOrName: string | undefined, service = "ec2.amazonaws.com"): this {
    if (profileArnOrName === undefined) return this;
    const name = profileArnOrName.split("/").pop() ?? profileArnOrName;
    const profile = this.world.instanceProfiles.get(name);
    for (const roleName of profile?.roleNames ?? []) {
      const role = this.world.roles.get(roleName);
      const arn = role?.arn ?? `arn:aws:iam::${this.world.accountId}:role/${roleName}`;
      this.add("iam:PassRole", arn, { "iam:PassedToService": service });
    }
    return this;
  }

  private ec2TypeAndTags(id: string): [string, Tags | undefined] {
    const known = EC2_RESOURCES.get(id.split("-")[0] ?? "");
    // An id of no known kind: authorized as an instance, which is what EC2's CreateTags would then refuse.
    if (!known) return ["instance", undefined];
    const [type, kept] = known;
    return [type, kept(this.world).get(id)?.tags];
  }
}

export type Builder = (checks: RequestChecks, params: Params, world: World) => void;

export const wildcard =
  (action: string): Builder =>
  (checks) =>
    void checks.add(action, "*");
