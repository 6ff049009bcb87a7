import type { DynamoDBDocument } from "@aws-sdk/lib-dynamodb";

import { awsErrorCode, IncidentLeaseLostError } from "./errors";
import type { InstanceFinding } from "./findingEvent";
import {
  findingKey,
  newIncidentId,
  summarizeFinding,
  type FindingSummary,
  type IncidentRecord,
  type InstanceFacts,
} from "./incidentRecord";
import { unstorableRawFinding } from "./rawFinding";

const CONDITION_FAILED = "ConditionalCheckFailedException";

/**
 * How DynamoDB refuses an item it cannot store as written (a string that is not valid UTF-8, an attribute it
 * cannot take), and how the document client refuses one it cannot marshal (a plain Error, no AWS code).
 */
function mayBeUnstorable(error: unknown): boolean {
  const code = awsErrorCode(error);
  return code === undefined || code === "ValidationException" || code === "SerializationException";
}

/** Printable ASCII only (anything else becomes "?"): text DynamoDB stores whatever it held (pure). */
export function plainText(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, "?");
}

/** Every string in a JSON-like value (keys included) as plainText (pure). */
function plainTexts<T>(value: T): T {
  if (typeof value === "string") return plainText(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => plainTexts(item)) as T;
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [plainText(key), plainTexts(item as unknown)]),
    ) as T;
  }
  return value;
}

/**
 * The claim's item without anything DynamoDB could refuse (pure): what the claim writes when the item as
 * received cannot be stored, so the record's text never stops the containment. The finding's free text is
 * made printable ASCII and its tags dropped (the live description has the instance's real tags); the raw
 * event is replaced by a marker with its size and SHA-256 (the evidence says it was not kept, and how to check
 * a copy from elsewhere, such as an EventBridge archive). Ids, severity and the ENIs are kept: acceptance
 * validated them.
 */
export function plainClaim(record: IncidentRecord): IncidentRecord {
  const finding: InstanceFinding = {
    ...plainTexts(record.finding),
    tags: {},
  };
  return {
    ...record,
    finding,
    rawFinding: unstorableRawFinding(record.rawFinding),
    findings: { [findingKey(finding)]: plainTexts(Object.values(record.findings)[0]!) },
    steps: plainTexts(record.steps),
    facts: plainTexts(record.facts),
    ...(record.rawInstance === undefined ? {} : { rawInstance: plainText(record.rawInstance) }),
  };
}

/** Who asks, and until when its hold on an incident is good (the invocation's deadline). */
export interface LeaseHolder {
  readonly owner: string;
  readonly expiresAt: number;
  readonly now: number;
}

export type ClaimResult =
  /** This invocation holds the incident: new, or taken over from a crashed/expired holder. */
  | { readonly kind: "claimed"; readonly record: IncidentRecord; readonly resumed: boolean }
  /** Another invocation is responding, or the response is complete: the finding was appended only. */
  | { readonly kind: "appended"; readonly record: IncidentRecord; readonly why: "running" | "completed" };

/** Decides, from the stored record, whether a late-comer may take the incident over. Pure. */
export function mayTakeOver(record: IncidentRecord, holder: LeaseHolder): boolean {
  // A released incident (rejected on the live instance, containment undone) is never resumed: a new finding
  // claims the instance afresh instead (claim's put).
  if (record.status === "completed" || record.status === "released") return false;
  return record.leaseOwner === holder.owner || record.leaseExpiresAt <= holder.now;
}

/**
 * The incident table. One item per instance (pk = account#region#instanceId): a second finding for the same
 * instance lands on the same item, which is what makes "append, do not answer again" a single conditional write.
 */
export class IncidentStore {
  constructor(
    private readonly documents: DynamoDBDocument,
    private readonly tableName: string,
  ) {}

  async claim(
    finding: InstanceFinding,
    pk: string,
    start: {
      rawFinding: string;
      dryRun: boolean;
      steps: IncidentRecord["steps"];
      /**
       * The live description, when the instance was described before the claim (events AWS did not send):
       * its facts and the DescribeInstances answer verbatim.
       */
      instance?: { facts: InstanceFacts; raw: string };
    },
    holder: LeaseHolder,
  ): Promise<ClaimResult> {
    const now = new Date(holder.now);
    const summary = summarizeFinding(finding, now.toISOString());
    const fresh: IncidentRecord = {
      pk,
      incidentId: newIncidentId(finding.instanceId, now),
      instanceId: finding.instanceId,
      createdAt: now.toISOString(),
      dryRun: start.dryRun,
      finding,
      rawFinding: start.rawFinding,
      findings: { [findingKey(finding)]: summary },
      status: "responding",
      version: 1,
      leaseOwner: holder.owner,
      leaseExpiresAt: holder.expiresAt,
      continuations: 0,
      steps: start.steps,
      // For a GuardDuty finding the instance description comes with the first network change
      // (isolateNetwork), not before it; other events were described before the claim.
      facts: start.instance === undefined ? {} : { instance: start.instance.facts },
      ...(start.instance === undefined ? {} : { rawInstance: start.instance.raw }),
    };
    const put = (item: IncidentRecord) =>
      this.documents.put({
        TableName: this.tableName,
        Item: item,
        // A released incident is over and nothing of its containment remains: a new finding is evaluated
        // afresh. One conditional write still, so concurrent findings after a release claim it once.
        ConditionExpression: "attribute_not_exists(pk) OR #status = :released",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: { ":released": "released" },
      });
    let claimed: IncidentRecord | undefined;
    try {
      await put(fresh);
      claimed = fresh;
    } catch (error) {
      if (awsErrorCode(error) !== CONDITION_FAILED) {
        // The record's text must never stop the containment: an item DynamoDB refuses is claimed again
        // without its free text. Still the one conditional write, so concurrent duplicates answer once, and a
        // first put that did land (its answer lost) fails this one's condition and is taken back below.
        if (!mayBeUnstorable(error)) throw error;
        const plain = plainClaim(fresh);
        try {
          await put(plain);
          claimed = plain;
        } catch (plainError) {
          if (awsErrorCode(plainError) !== CONDITION_FAILED) throw plainError;
        }
      }
    }
    if (claimed !== undefined) return { kind: "claimed", record: claimed, resumed: false };
    // The instance already has an incident: record this finding on it (idempotent per finding version:
    // a duplicate delivery of the same event writes nothing new), then see whether its response needs us.
    const append = (key: string, entry: FindingSummary) =>
      this.documents.update({
        TableName: this.tableName,
        Key: { pk },
        UpdateExpression: "SET findings.#finding = if_not_exists(findings.#finding, :summary)",
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeNames: { "#finding": key },
        ExpressionAttributeValues: { ":summary": entry },
        ReturnValues: "ALL_NEW",
      });
    const appended = await append(findingKey(finding), summary).catch((error: unknown) => {
      if (!mayBeUnstorable(error)) throw error;
      const plain = plainTexts(summary);
      return append(findingKey(plain), plain);
    });
    const record = appended.Attributes as IncidentRecord;
    if (record.status === "completed") return { kind: "appended", record, why: "completed" };
    if (!mayTakeOver(record, holder)) return { kind: "appended", record, why: "running" };
    return this.takeOver(record, holder);
  }

  /** Loads an incident by id (continuations and snapshot-completion events carry only the id). */
  async load(pk: string): Promise<IncidentRecord | undefined> {
    const answer = await this.documents.get({ TableName: this.tableName, Key: { pk }, ConsistentRead: true });
    return answer.Item as IncidentRecord | undefined;
  }

  /** Takes the lease of a record whose holder is gone (expired) or is this very invocation (a Lambda retry). */
  async takeOver(record: IncidentRecord, holder: LeaseHolder): Promise<ClaimResult> {
    if (!mayTakeOver(record, holder)) {
      return { kind: "appended", record, why: record.status === "completed" ? "completed" : "running" };
    }
    try {
      const answer = await this.documents.update({
        TableName: this.tableName,
        Key: { pk: record.pk },
        UpdateExpression: "SET leaseOwner = :owner, leaseExpiresAt = :expires, version = version + :one",
        ConditionExpression: "version = :version AND (leaseOwner = :owner OR leaseExpiresAt <= :now)",
        ExpressionAttributeValues: {
          ":owner": holder.owner,
          ":expires": holder.expiresAt,
          ":version": record.version,
          ":now": holder.now,
          ":one": 1,
        },
        ReturnValues: "ALL_NEW",
      });
      return { kind: "claimed", record: answer.Attributes as IncidentRecord, resumed: true };
    } catch (error) {
      if (awsErrorCode(error) !== CONDITION_FAILED) throw error;
      // Someone else took it between our read and our write: they respond, we do not.
      const current = (await this.load(record.pk)) ?? record;
      return {
        kind: "appended",
        record: current,
        why: current.status === "completed" ? "completed" : "running",
      };
    }
  }

  /**
   * Saves what the holder changed (steps, facts, status) under optimistic concurrency: the write succeeds only
   * if nobody else wrote since (version) and we still hold the lease. Findings are not written here, so repeat
   * findings appended meanwhile are never overwritten.
   */
  async save(record: IncidentRecord, holder: { owner: string; expiresAt: number }): Promise<void> {
    try {
      await this.documents.update({
        TableName: this.tableName,
        Key: { pk: record.pk },
        UpdateExpression:
          "SET steps = :steps, facts = :facts, #status = :status, continuations = :continuations, " +
          "leaseExpiresAt = :expires, version = :next",
        ConditionExpression: "version = :version AND leaseOwner = :owner",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: {
          ":steps": record.steps,
          ":facts": record.facts,
          ":status": record.status,
          ":continuations": record.continuations,
          ":expires": holder.expiresAt,
          ":version": record.version,
          ":next": record.version + 1,
          ":owner": holder.owner,
        },
      });
      record.version += 1;
      record.leaseExpiresAt = holder.expiresAt;
    } catch (error) {
      if (awsErrorCode(error) === CONDITION_FAILED)
        throw new IncidentLeaseLostError(record.incidentId, { cause: error });
      throw error;
    }
  }

  /** Gives the lease up at once (before a continuation or a retry) so the next invocation need not wait. */
  async release(record: IncidentRecord, owner: string): Promise<void> {
    try {
      await this.documents.update({
        TableName: this.tableName,
        Key: { pk: record.pk },
        UpdateExpression: "SET leaseExpiresAt = :zero, version = :next",
        ConditionExpression: "version = :version AND leaseOwner = :owner",
        ExpressionAttributeValues: {
          ":zero": 0,
          ":version": record.version,
          ":next": record.version + 1,
          ":owner": owner,
        },
      });
      record.version += 1;
      record.leaseExpiresAt = 0;
    } catch (error) {
      if (awsErrorCode(error) === CONDITION_FAILED)
        throw new IncidentLeaseLostError(record.incidentId, { cause: error });
      throw error;
    }
  }
}
