// Shared EC2 request handling: id checks, NotFound codes, filters, pagination, tag specifications.
import type { Filter, TagSpecification } from "@aws-sdk/client-ec2";
import { AwsError } from "../../errors";
import type { Tags, Visible } from "../../state/model";
import type { World } from "../../state/world";

/** NotFound and Malformed error codes per id prefix, as EC2 names them. */
const ID_KINDS: Record<string, { code: string; what: string; pattern: RegExp }> = {
  i: { code: "InvalidInstanceID", what: "instance ID", pattern: /^i-[0-9a-f]{8}([0-9a-f]{9})?$/ },
  vol: { code: "InvalidVolume", what: "volume", pattern: /^vol-[0-9a-f]{8}([0-9a-f]{9})?$/ },
  snap: { code: "InvalidSnapshot", what: "snapshot", pattern: /^snap-[0-9a-f]{8}([0-9a-f]{9})?$/ },
  sg: { code: "InvalidGroup", what: "security group", pattern: /^sg-[0-9a-f]{8}([0-9a-f]{9})?$/ },
  eni: {
    code: "InvalidNetworkInterfaceID",
    what: "networkInterface ID",
    pattern: /^eni-[0-9a-f]{8}([0-9a-f]{9})?$/,
  },
  subnet: { code: "InvalidSubnetID", what: "subnet ID", pattern: /^subnet-[0-9a-f]{8}([0-9a-f]{9})?$/ },
  vpc: { code: "InvalidVpcID", what: "vpc ID", pattern: /^vpc-[0-9a-f]{8}([0-9a-f]{9})?$/ },
  ami: { code: "InvalidAMIID", what: "image id", pattern: /^ami-[0-9a-f]{8}([0-9a-f]{9})?$/ },
};

function kindOf(id: string): (typeof ID_KINDS)[string] {
  const kind = ID_KINDS[id.split("-")[0] ?? ""];
  if (!kind) throw new AwsError("InvalidID", `The ID '${id}' is not valid`);
  return kind;
}

export function notFoundError(id: string): AwsError {
  const kind = kindOf(id);
  if (kind.code === "InvalidVolume" || kind.code === "InvalidSnapshot" || kind.code === "InvalidGroup") {
    return new AwsError(`${kind.code}.NotFound`, `The ${kind.what} '${id}' does not exist.`);
  }
  if (kind.code === "InvalidAMIID")
    return new AwsError("InvalidAMIID.NotFound", `The image id '[${id}]' does not exist`);
  return new AwsError(`${kind.code}.NotFound`, `The ${kind.what} '${id}' does not exist`);
}

/** Reject an id that cannot be one (EC2 answers <Kind>.Malformed before looking it up). */
function checkIdFormat(id: string): void {
  const kind = kindOf(id);
  if (!kind.pattern.test(id)) {
    throw new AwsError(`${kind.code}.Malformed`, `Invalid id: "${id}"`);
  }
}

/** Find a resource by id like EC2: malformed -> .Malformed, missing or not yet visible -> .NotFound. */
export function find<T extends Visible>(world: World, map: Map<string, T>, id: string): T {
  checkIdFormat(id);
  return world.lookup(map, id, () => notFoundError(id));
}

/**
 * Describe by explicit ids or all: explicit ids that do not exist fail the whole call (as EC2 does);
 * without ids, resources still inside their consistency window are simply not listed.
 */
function selectByIds<T extends Visible>(world: World, map: Map<string, T>, ids: string[] | undefined): T[] {
  if (ids && ids.length > 0) return ids.map((id) => find(world, map, id));
  return [...map.values()].filter((r) => world.isVisible(r));
}

/** Values of one filter name for a resource; undefined = the filter name is not supported for it. */
type FilterValues = (name: string) => (string | undefined)[] | undefined;

function wildcard(pattern: string): RegExp {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${escaped}$`);
}

function tagFilterValues(tags: Tags, name: string): (string | undefined)[] | undefined {
  if (name.startsWith("tag:")) return [tags.get(name.slice(4))];
  if (name === "tag-key") return [...tags.keys()];
  if (name === "tag-value") return [...tags.values()];
  return undefined;
}

/**
 * The filter names a resource type supports, each with the values a resource has for it; tag:<key>, tag-key and
 * tag-value come with any resource that has tags.
 */
export type FilterTable<T> = Record<string, (resource: T) => (string | undefined)[]>;

export function filterValuesOf<T extends object>(table: FilterTable<T>, resource: T): FilterValues {
  // A resource without tags (an IAM instance profile association) supports no tag filter.
  const tags = (resource as { tags?: Tags }).tags;
  return (name) => {
    if (Object.hasOwn(table, name)) return table[name]?.(resource);
    return tags ? tagFilterValues(tags, name) : undefined;
  };
}

/** Resources by explicit ids or all visible ones (see selectByIds) that pass `keep` and the request's filters. */
export function selectMatching<T extends Visible & { tags: Tags }>(
  world: World,
  map: Map<string, T>,
  ids: string[] | undefined,
  filters: Filter[] | undefined,
  table: FilterTable<T>,
  keep: (resource: T) => boolean = () => true,
): T[] {
  return selectByIds(world, map, ids).filter(
    (resource) => keep(resource) && matchesFilters(filters, filterValuesOf(table, resource)),
  );
}

/** A paginated Describe call: selectMatching, then one page of MaxResults from NextToken. */
export function describePage<T extends Visible & { tags: Tags }>(
  world: World,
  map: Map<string, T>,
  ids: string[] | undefined,
  input: { Filters?: Filter[]; MaxResults?: number; NextToken?: string },
  table: FilterTable<T>,
  keep?: (resource: T) => boolean,
): { page: T[]; nextToken?: string } {
  const matching = selectMatching(world, map, ids, input.Filters, table, keep);
  return paginate(matching, input.MaxResults, input.NextToken);
}

/** EC2 filter semantics: AND across filters, OR across a filter's values, * and ? wildcards. */
export function matchesFilters(filters: Filter[] | undefined, valuesOf: FilterValues): boolean {
  for (const filter of filters ?? []) {
    const name = filter.Name ?? "";
    const actual = valuesOf(name);
    if (actual === undefined) throw new AwsError("InvalidParameterValue", `The filter '${name}' is invalid`);
    const wanted = (filter.Values ?? []).map(wildcard);
    if (!actual.some((v) => v !== undefined && wanted.some((w) => w.test(v)))) return false;
  }
  return true;
}

/** Page through a list with MaxResults/NextToken (the token is an opaque offset). */
export function paginate<T>(
  items: T[],
  maxResults: number | undefined,
  nextToken: string | undefined,
  limits: { min: number; max: number } = { min: 5, max: 1000 },
): { page: T[]; nextToken?: string } {
  let offset = 0;
  if (nextToken !== undefined) {
    offset = Number(Buffer.from(nextToken, "base64url").toString("utf8"));
    if (!Number.isInteger(offset) || offset < 0)
      throw new AwsError("InvalidNextToken", "The token is invalid");
  }
  if (maxResults !== undefined && (maxResults < limits.min || maxResults > limits.max)) {
    throw new AwsError(
      "InvalidParameterValue",
      `Value ( ${maxResults} ) for parameter maxResults is invalid. Expecting a value between ${limits.min} and ${limits.max}.`,
    );
  }
  const size = maxResults ?? items.length;
  const page = items.slice(offset, offset + size);
  const end = offset + page.length;
  return end < items.length ? { page, nextToken: Buffer.from(String(end)).toString("base64url") } : { page };
}

/** Tags that TagSpecifications give to resources of one type. */
export function tagsFor(specs: TagSpecification[] | undefined, resourceType: string): Tags {
  const tags: Tags = new Map();
  for (const spec of specs ?? []) {
    if (spec.ResourceType !== resourceType) continue;
    for (const tag of spec.Tags ?? []) {
      if (tag.Key !== undefined) tags.set(tag.Key, tag.Value ?? "");
    }
  }
  return tags;
}

export function checkTagSpecifications(specs: TagSpecification[] | undefined, allowed: string[]): void {
  for (const spec of specs ?? []) {
    if (!spec.ResourceType)
      throw new AwsError("MissingParameter", "The request must contain the parameter ResourceType");
    if (!allowed.includes(spec.ResourceType)) {
      throw new AwsError(
        "InvalidParameterValue",
        `'${spec.ResourceType}' is not a valid taggable resource type for this operation.`,
      );
    }
    for (const tag of spec.Tags ?? []) checkTagKey(tag.Key);
  }
}

export function checkTagKey(key: string | undefined): void {
  if (!key) throw new AwsError("InvalidParameterValue", "Tag key must not be empty");
  if (key.toLowerCase().startsWith("aws:")) {
    throw new AwsError(
      "InvalidParameterValue",
      "Tag keys starting with 'aws:' are reserved for internal use",
    );
  }
  if (key.length > 128)
    throw new AwsError("InvalidParameterValue", "Tag key exceeds the maximum length of 128");
}

export const toDate = (epochMs: number): Date => new Date(epochMs);
