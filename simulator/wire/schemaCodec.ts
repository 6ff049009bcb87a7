// Wire codec driven by the installed SDK's own Smithy schemas (e.g. DescribeInstances$ from @aws-sdk/client-ec2).
// The schemas are generated from AWS's service models and carry the wire names (ec2QueryName, xmlName,
// flattened lists, "item" vs "member" list entries), so one small walker serves every Query/XML action
// instead of hand-built XML per action. Encoding mirrors @aws-sdk/core's XmlShapeDeserializer; decoding is the
// inverse of its QueryShapeSerializer.
import { NormalizedSchema } from "@smithy/core/schema";
import type { StaticOperationSchema } from "@smithy/types";

export type QueryFlavor = "ec2" | "query";

/** Timestamp schema ids of @smithy/core: 6 = http-date, 7 = epoch-seconds (anything else: date-time). */
const HTTP_DATE = 6;
const EPOCH_SECONDS = 7;

export function inputSchemaOf(operation: StaticOperationSchema): NormalizedSchema {
  return NormalizedSchema.of(operation[4]);
}

export function outputSchemaOf(operation: StaticOperationSchema): NormalizedSchema {
  return NormalizedSchema.of(operation[5]);
}

/** Names of the members a structure requires (Smithy's @required; the schema lists them first and counts them). */
export function requiredMembers(schema: NormalizedSchema): string[] {
  const raw = schema.getSchema() as unknown;
  if (!Array.isArray(raw)) return [];
  const names = raw[4] as unknown;
  const requiredCount = raw[6] as unknown;
  if (!Array.isArray(names) || typeof requiredCount !== "number") return [];
  return (names as string[]).slice(0, requiredCount);
}

/** The wire name of a structure member in a Query request. */
export function queryMemberKey(memberName: string, member: NormalizedSchema, flavor: QueryFlavor): string {
  const traits = member.getMergedTraits();
  if (flavor === "ec2") {
    if (typeof traits.ec2QueryName === "string") return traits.ec2QueryName;
    const key = typeof traits.xmlName === "string" ? traits.xmlName : memberName;
    return key.charAt(0).toUpperCase() + key.slice(1);
  }
  return typeof traits.xmlName === "string" ? traits.xmlName : memberName;
}

/** Decode form parameters (Action=...&InstanceId.1=...) into the SDK's input shape. */
export function decodeQuery(
  schema: NormalizedSchema,
  params: ReadonlyMap<string, string>,
  flavor: QueryFlavor,
): Record<string, unknown> {
  const decoder = new QueryDecoder(params, flavor);
  const value = decoder.decode(schema, "");
  return value && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

class QueryDecoder {
  private readonly keys: string[];

  constructor(
    private readonly params: ReadonlyMap<string, string>,
    private readonly flavor: QueryFlavor,
  ) {
    this.keys = [...params.keys()];
  }

  private has(prefix: string): boolean {
    return this.params.has(prefix) || this.keys.some((k) => k.startsWith(`${prefix}.`));
  }

  decode(schema: NormalizedSchema, prefix: string): unknown {
    const join = (suffix: string): string => (prefix ? `${prefix}.${suffix}` : suffix);
    if (schema.isStructSchema()) {
      if (prefix && !this.has(prefix)) return undefined;
      const out: Record<string, unknown> = {};
      for (const [memberName, member] of schema.structIterator()) {
        const value = this.decode(member, join(queryMemberKey(memberName, member, this.flavor)));
        if (value !== undefined) out[memberName] = value;
      }
      return out;
    }
    if (schema.isListSchema()) {
      if (!this.has(prefix)) return undefined;
      if (this.params.get(prefix) === "") return [];
      const item = schema.getValueSchema();
      const itemTraits = item.getMergedTraits();
      const flat = this.flavor === "ec2" || !!schema.getMergedTraits().xmlFlattened;
      const itemName = typeof itemTraits.xmlName === "string" ? itemTraits.xmlName : "member";
      const base = flat ? prefix : `${prefix}.${itemName}`;
      const out: unknown[] = [];
      for (let i = 1; this.has(`${base}.${i}`); i++) out.push(this.decode(item, `${base}.${i}`));
      return out;
    }
    if (schema.isMapSchema()) {
      if (!this.has(prefix)) return undefined;
      const keyTraits = schema.getKeySchema().getMergedTraits();
      const valueSchema = schema.getValueSchema();
      const valueTraits = valueSchema.getMergedTraits();
      const keyName = typeof keyTraits.xmlName === "string" ? keyTraits.xmlName : "key";
      const valueName = typeof valueTraits.xmlName === "string" ? valueTraits.xmlName : "value";
      const base = schema.getMergedTraits().xmlFlattened ? prefix : `${prefix}.entry`;
      const out: Record<string, unknown> = {};
      for (let i = 1; this.has(`${base}.${i}`); i++) {
        const key = this.params.get(`${base}.${i}.${keyName}`);
        if (key !== undefined) out[key] = this.decode(valueSchema, `${base}.${i}.${valueName}`);
      }
      return out;
    }
    const raw = this.params.get(prefix);
    if (raw === undefined) return undefined;
    if (schema.isBooleanSchema()) return raw === "true";
    if (schema.isNumericSchema()) return Number(raw);
    if (schema.isTimestampSchema())
      return /^\d+(\.\d+)?$/.test(raw) ? new Date(Number(raw) * 1000) : new Date(raw);
    if (schema.isBlobSchema()) return Buffer.from(raw, "base64");
    return raw;
  }
}

const XML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
  "\r": "&#x0D;",
  "\n": "&#x0A;",
};

export function escapeXml(text: string): string {
  return text.replace(/[&<>"'\r\n]/g, (ch) => XML_ESCAPES[ch] ?? ch);
}

function element(name: string, inner: string): string {
  return `<${name}>${inner}</${name}>`;
}

/** Encode an SDK-shaped value (e.g. a DescribeInstancesResult) as the XML AWS sends for it. */
function encodeXml(schema: NormalizedSchema, value: unknown, name: string): string {
  if (value === undefined || value === null) return "";
  if (schema.isStructSchema()) return element(name, encodeMembers(schema, value));
  if (schema.isListSchema()) {
    if (!Array.isArray(value)) return "";
    const item = schema.getValueSchema();
    if (schema.getMergedTraits().xmlFlattened) return value.map((v) => encodeXml(item, v, name)).join("");
    const itemXmlName = item.getMergedTraits().xmlName;
    const itemName = typeof itemXmlName === "string" ? itemXmlName : "member";
    return element(name, value.map((v) => encodeXml(item, v, itemName)).join(""));
  }
  if (schema.isMapSchema()) {
    if (typeof value !== "object") return "";
    const keyXmlName = schema.getKeySchema().getMergedTraits().xmlName;
    const valueSchema = schema.getValueSchema();
    const valueXmlName = valueSchema.getMergedTraits().xmlName;
    const keyName = typeof keyXmlName === "string" ? keyXmlName : "key";
    const valueName = typeof valueXmlName === "string" ? valueXmlName : "value";
    const entries = Object.entries(value as Record<string, unknown>).map(
      ([k, v]) => element(keyName, escapeXml(k)) + encodeXml(valueSchema, v, valueName),
    );
    if (schema.getMergedTraits().xmlFlattened) return entries.map((e) => element(name, e)).join("");
    return element(name, entries.map((e) => element("entry", e)).join(""));
  }
  return element(name, escapeXml(encodeScalar(schema, value)));
}

/** The member elements of a structure, without an enclosing element (for the response root). */
export function encodeMembers(schema: NormalizedSchema, value: unknown): string {
  if (!schema.isStructSchema() || typeof value !== "object" || value === null) return "";
  const record = value as Record<string, unknown>;
  let inner = "";
  for (const [memberName, member] of schema.structIterator()) {
    const memberValue = record[memberName];
    if (memberValue === undefined || memberValue === null) continue;
    const memberXmlName = member.getMemberTraits().xmlName;
    inner += encodeXml(member, memberValue, typeof memberXmlName === "string" ? memberXmlName : memberName);
  }
  return inner;
}

function encodeScalar(schema: NormalizedSchema, value: unknown): string {
  if (schema.isTimestampSchema()) {
    const date = value instanceof Date ? value : new Date(value as number);
    const format = schema.getSchema();
    if (format === EPOCH_SECONDS) return String(date.getTime() / 1000);
    if (format === HTTP_DATE) return date.toUTCString();
    return date.toISOString();
  }
  if (schema.isBlobSchema()) {
    if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
    return Buffer.from(String(value)).toString("base64");
  }
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint")
    return String(value);
  return JSON.stringify(value);
}

export type { StaticOperationSchema };
