import type { DynamoDBDocument } from "@aws-sdk/lib-dynamodb";

import { awsErrorCode, ResponderError } from "./errors";
import type { InstanceFinding } from "./acceptance/finding";
import {
  findingKey,
  newIncidentId,
  summarizeFinding,
  type FindingSummary,
  type IncidentFacts,
  type IncidentRecord,
  type InstanceAsFound,
  type InstanceFacts,
  type ResponseTrigger,
  type StepName,
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
function plainText(text: string): string {
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
    ...(record.trigger === undefined ? {} : { trigger: plainTexts(record.trigger) }),
    ...(record.rawInstance === undefined ? {} : { rawInstance: plainText(record.rawInstance) }),
  };
}

/** The Lambda request that asks, and until when it (with Lambda's retries of it) may carry a claim. */
export interface Claimant {
  readonly requestId: string;
  readonly now: number;
  readonly expiresAt: number;
}

export type ClaimResult =
  /** This request carries the containment: a new incident, its own retry, or an abandoned claim taken over. */
  | { readonly kind: "claimed"; readonly record: IncidentRecord; readonly resumed: boolean }
  /** The incident is under response (its execution runs) or complete: the finding was appended only. */
  | { readonly kind: "appended"; readonly record: IncidentRecord; readonly why: "running" | "completed" };

/**
 * Whether this request carries the containment of an existing record (pure): its own claim (a Lambda retry has
 * the same request id), or a claim whose request is over without having started the execution.
 */
export function carriesClaim(record: IncidentRecord, claimant: Claimant): boolean {
  if (record.status !== "responding" || record.execution !== undefined) return false;
  return record.claimedBy === claimant.requestId || record.claimExpiresAt <= claimant.now;
}

/** What one write of a step (or of the containment) changes in the record: its own parts, nothing else. */
export interface RecordChanges {
  readonly steps: readonly StepName[];
  readonly facts: readonly (keyof IncidentFacts)[];
  readonly fields?: readonly ("status" | "rawInstance" | "execution")[];
  /** Problems and dry-run notes new since the record was loaded: appended, so concurrent steps keep theirs. */
  readonly newProblems?: readonly string[];
  readonly newWouldHave?: readonly string[];
  /**
   * Writes only while the step's entry names this pass (`expected`: the pass it names now; undefined: none yet).
   * A Task retried while its first invocation still runs (a lambda:invoke whose connection dropped) starts a
   * second pass: the first one's saves then fail instead of overwriting what the second recorded.
   */
  readonly fence?: { readonly step: StepName; readonly expected: string | undefined };
}

/** The step's entry names another pass: this one was superseded by a retry of its Task. */
export class PassSupersededError extends ResponderError {
  constructor(step: string, options: { cause: unknown }) {
    super(`step ${step}: a newer pass of this step has taken over; this one stops`, options);
    this.name = "PassSupersededError";
  }
}

/**
 * The incident table. One item per instance (pk = account#region#instanceId): a second finding for the same
 * instance lands on the same item, which is what makes "append, do not answer again" a single conditional write.
 * Steps that run in parallel (the state machine's Parallel branches) each write only their own step entry and
 * the facts they declare (handler/workflow.ts): no write overwrites another's, so no versions or leases.
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
      /** What started the response (recorded as is). */
      trigger?: ResponseTrigger;
      /**
       * The live description, when the instance was described before the claim (events AWS did not send):
       * its facts and the DescribeInstances answer verbatim.
       */
      instance?: { facts: InstanceFacts; raw: string };
    },
    claimant: Claimant,
  ): Promise<ClaimResult> {
    const now = new Date(claimant.now);
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
      ...(start.trigger === undefined ? {} : { trigger: start.trigger }),
      status: "responding",
      claimedBy: claimant.requestId,
      claimExpiresAt: claimant.expiresAt,
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
    // a duplicate delivery of the same event writes nothing new), then see whether its containment needs us.
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
    const why = record.status === "completed" ? "completed" : "running";
    if (!carriesClaim(record, claimant)) return { kind: "appended", record, why };
    if (record.claimedBy === claimant.requestId) return { kind: "claimed", record, resumed: true };
    // An abandoned claim: taken over by one conditional write, so of two late findings one carries it.
    try {
      const taken = await this.documents.update({
        TableName: this.tableName,
        Key: { pk },
        UpdateExpression: "SET claimedBy = :me, claimExpiresAt = :expires",
        ConditionExpression: "claimedBy = :previous AND attribute_not_exists(execution)",
        ExpressionAttributeValues: {
          ":me": claimant.requestId,
          ":expires": claimant.expiresAt,
          ":previous": record.claimedBy,
        },
        ReturnValues: "ALL_NEW",
      });
      return { kind: "claimed", record: taken.Attributes as IncidentRecord, resumed: true };
    } catch (error) {
      if (awsErrorCode(error) !== CONDITION_FAILED) throw error;
      return { kind: "appended", record, why };
    }
  }

  /** Loads an incident by its key (the state machine's tasks carry the key and the incident id). */
  async load(pk: string): Promise<IncidentRecord | undefined> {
    const answer = await this.documents.get({ TableName: this.tableName, Key: { pk }, ConsistentRead: true });
    return answer.Item as IncidentRecord | undefined;
  }

  /**
   * Adds attributes as found to facts.instance.asFound, each only where it is not recorded yet: a step retried
   * while an earlier pass of it still runs may read an attribute that pass already changed, and must not overwrite
   * what that pass found. On the condition that the item is still this incident.
   */
  async recordAsFound(record: IncidentRecord, found: Partial<InstanceAsFound>): Promise<void> {
    const entries = Object.entries(found).filter(([, value]) => value !== undefined);
    if (entries.length === 0) return;
    const names: Record<string, string> = { "#instance": "instance", "#asFound": "asFound" };
    const values: Record<string, unknown> = { ":incidentId": record.incidentId };
    const sets = entries.map(([key, value], index) => {
      names[`#a${index}`] = key;
      values[`:a${index}`] = value;
      const path = `facts.#instance.#asFound.#a${index}`;
      return `${path} = if_not_exists(${path}, :a${index})`;
    });
    await this.documents.update({
      TableName: this.tableName,
      Key: { pk: record.pk },
      UpdateExpression: `SET ${sets.join(", ")}`,
      ConditionExpression: "incidentId = :incidentId AND attribute_exists(facts.#instance.#asFound)",
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    });
  }

  /**
   * Writes the named parts of the record, on the condition that the item is still this incident (a released
   * instance claimed again has a new incident id: a late task of the old execution must not write into it).
   */
  async save(record: IncidentRecord, changes: RecordChanges): Promise<void> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ":incidentId": record.incidentId };
    const sets: string[] = [];
    changes.steps.forEach((step, index) => {
      const value = record.steps[step];
      if (value === undefined) return;
      names[`#s${index}`] = step;
      values[`:s${index}`] = value;
      sets.push(`steps.#s${index} = :s${index}`);
    });
    changes.facts.forEach((fact, index) => {
      const value = record.facts[fact];
      if (value === undefined) return;
      names[`#f${index}`] = fact;
      values[`:f${index}`] = value;
      sets.push(`facts.#f${index} = :f${index}`);
    });
    for (const field of changes.fields ?? []) {
      const value = record[field];
      if (value === undefined) continue;
      names[`#${field}`] = field;
      values[`:${field}`] = value;
      sets.push(`#${field} = :${field}`);
    }
    const appendLines = (fact: "problems" | "wouldHave", lines: readonly string[] | undefined) => {
      if (lines === undefined || lines.length === 0) return;
      names[`#${fact}`] = fact;
      values[`:${fact}`] = lines;
      values[":none"] = [];
      sets.push(`facts.#${fact} = list_append(if_not_exists(facts.#${fact}, :none), :${fact})`);
    };
    appendLines("problems", changes.newProblems);
    appendLines("wouldHave", changes.newWouldHave);
    if (sets.length === 0) return;
    let condition = "incidentId = :incidentId";
    const { fence } = changes;
    if (fence !== undefined) {
      names["#fenced"] = fence.step;
      if (fence.expected === undefined) {
        condition += " AND attribute_not_exists(steps.#fenced.pass)";
      } else {
        values[":pass"] = fence.expected;
        condition += " AND steps.#fenced.pass = :pass";
      }
    }
    try {
      await this.documents.update({
        TableName: this.tableName,
        Key: { pk: record.pk },
        UpdateExpression: `SET ${sets.join(", ")}`,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      });
    } catch (error) {
      if (fence !== undefined && awsErrorCode(error) === CONDITION_FAILED)
        throw new PassSupersededError(fence.step, { cause: error });
      throw error;
    }
  }
}
