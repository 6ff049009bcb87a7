// Amazon EventBridge PutEvents (awsJson1_1) on the default bus: each entry becomes an event envelope, is matched
// against the rules registered with sim.events.rule() (EventBridge's content filtering, simulator/eventPattern.ts),
// and is delivered to the rule's Lambda target as an asynchronous invocation.
import { randomUUID } from "node:crypto";
import { matchesEventPattern } from "../eventPattern";
import { AwsError } from "../errors";
import type { World } from "../state/world";
import type { Answer, IncomingCall, PreparedCall, ServiceEndpoint } from "../wire/http";
import { jsonAnswer, jsonErrorAnswer } from "../wire/jsonProtocol";
import type { LambdaFunctions } from "./lambda";

/** Documented quotas: 10 entries per PutEvents call, 256 KB per call. */
const MAX_ENTRIES = 10;
const MAX_REQUEST_BYTES = 256 * 1024;

export interface EventRule {
  name: string;
  pattern: Record<string, unknown>;
  functionName: string;
}

export interface DeliveredEvent {
  rule: string;
  event: Record<string, unknown>;
}

export class EventRules {
  readonly rules: EventRule[] = [];
  readonly delivered: DeliveredEvent[] = [];

  add(name: string, pattern: Record<string, unknown>, functionName: string): void {
    this.rules.push({ name, pattern, functionName });
  }
}

interface PutEventsEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  Resources?: string[];
  Time?: number | string;
  EventBusName?: string;
}

type EntryResult = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

export function eventsEndpoint(world: World, rules: EventRules, functions: LambdaFunctions): ServiceEndpoint {
  const entryResult = (entry: PutEventsEntry): EntryResult => {
    if (!entry.Source || !entry.DetailType || entry.Detail === undefined) {
      return {
        ErrorCode: "InvalidArgument",
        ErrorMessage: "Parameters Source, DetailType and Detail are required.",
      };
    }
    // Only AWS services may put events with an aws.* source: a GuardDuty finding cannot be forged.
    if (entry.Source.startsWith("aws.")) {
      return { ErrorCode: "NotAuthorizedForSourceException", ErrorMessage: "Not authorized for the source." };
    }
    if ((entry.EventBusName ?? "default") !== "default") {
      return {
        ErrorCode: "InternalException",
        ErrorMessage: `Event bus ${entry.EventBusName} does not exist.`,
      };
    }
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail);
    } catch {
      return { ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed." };
    }
    if (typeof detail !== "object" || detail === null || Array.isArray(detail)) {
      return { ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed." };
    }
    const id = randomUUID();
    const event = {
      version: "0",
      id,
      "detail-type": entry.DetailType,
      source: entry.Source,
      account: world.accountId,
      time: new Date(world.now()).toISOString().replace(/\.\d+Z$/, "Z"),
      region: world.region,
      resources: entry.Resources ?? [],
      detail,
    };
    for (const rule of rules.rules.filter((r) => matchesEventPattern(r.pattern, event))) {
      rules.delivered.push({ rule: rule.name, event });
      deliver(rule, event);
    }
    return { EventId: id };
  };

  // EventBridge invokes a Lambda target asynchronously: the event joins the function's async queue.
  const deliver = (rule: EventRule, event: Record<string, unknown>) => {
    const target = functions.targets.get(rule.functionName);
    if (!target) return;
    const record = {
      functionName: rule.functionName,
      invocationType: "Event" as const,
      payload: event,
      at: world.now(),
      outcome: "pending" as "pending" | "succeeded" | "failed",
      error: undefined as string | undefined,
    };
    functions.invocations.push(record);
    const background = target(event, "Event").then(
      () => void (record.outcome = "succeeded"),
      (error: unknown) => {
        record.outcome = "failed";
        record.error = error instanceof Error ? error.message : String(error);
      },
    );
    functions.inFlight.add(background);
    void background.finally(() => functions.inFlight.delete(background));
  };

  return {
    signingName: "events",
    prepare(call: IncomingCall): PreparedCall {
      const action = String(call.headers["x-amz-target"] ?? "").replace(/^AWSEvents\./, "");
      return {
        action,
        params: {},
        execute: (): Answer => {
          if (action !== "PutEvents") {
            throw new AwsError("UnknownOperationException", `Unknown operation ${action || "(none)"}`);
          }
          if (call.body.length > MAX_REQUEST_BYTES) {
            throw new AwsError(
              "ValidationException",
              "Total size of the entries in the request is over the limit.",
            );
          }
          let request: { Entries?: PutEventsEntry[] };
          try {
            request = JSON.parse(call.body.toString("utf8")) as { Entries?: PutEventsEntry[] };
          } catch {
            throw new AwsError("SerializationException", "Could not parse the request body.");
          }
          const entries = request.Entries ?? [];
          if (entries.length < 1 || entries.length > MAX_ENTRIES) {
            throw new AwsError(
              "ValidationException",
              `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and ${MAX_ENTRIES}`,
            );
          }
          const results = entries.map(entryResult);
          return jsonAnswer("1.1", {
            FailedEntryCount: results.filter((r) => "ErrorCode" in r).length,
            Entries: results,
          });
        },
      };
    },
    errorAnswer: (error: AwsError, requestId: string): Answer => jsonErrorAnswer("1.1", error, requestId),
    throttlingError: () => new AwsError("ThrottlingException", "Rate exceeded", 400),
  };
}
