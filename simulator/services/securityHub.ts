// Security Hub (restJson1): BatchUpdateFindings, which the responder calls to set the workflow of an incident's
// finding. The simulator keeps no findings: it takes any finding identifier and records each update, in order, for
// tests to read (Simulator.state.securityHubUpdates).
import { AwsError } from "../errors";
import type { Answer, IncomingCall, PreparedCall, ServiceEndpoint } from "../wire/http";
import { restJsonErrorAnswer, unservedRoute } from "../wire/restJsonProtocol";

/** One finding's update as BatchUpdateFindings received it. */
export interface SecurityHubUpdate {
  readonly id: string;
  readonly productArn: string;
  readonly workflowStatus?: string;
  readonly note?: { readonly text: string; readonly updatedBy: string };
}

/** Security Hub's limits (API Reference, BatchUpdateFindings): 1-100 findings, a note of at most 512 characters. */
const MAX_FINDINGS = 100;
const NOTE_LIMIT = 512;
const WORKFLOW_STATUSES = ["NEW", "NOTIFIED", "RESOLVED", "SUPPRESSED"];

const invalidInput = (message: string): AwsError => new AwsError("InvalidInputException", message, 400);

interface UpdateRequest {
  FindingIdentifiers?: { Id?: unknown; ProductArn?: unknown }[];
  Workflow?: { Status?: unknown };
  Note?: { Text?: unknown; UpdatedBy?: unknown };
}

/** The request's updates, or the InvalidInputException Security Hub answers it with. */
function updatesOf(body: Buffer): SecurityHubUpdate[] {
  let request: UpdateRequest;
  try {
    request = JSON.parse(body.toString("utf8") || "{}") as UpdateRequest;
  } catch {
    throw invalidInput("The request body is not valid JSON.");
  }
  const identifiers = request.FindingIdentifiers;
  if (!Array.isArray(identifiers) || identifiers.length === 0 || identifiers.length > MAX_FINDINGS)
    throw invalidInput(`FindingIdentifiers must hold 1 to ${MAX_FINDINGS} findings.`);
  const status = request.Workflow?.Status;
  if (status !== undefined && (typeof status !== "string" || !WORKFLOW_STATUSES.includes(status)))
    throw invalidInput(`Workflow.Status must be one of ${WORKFLOW_STATUSES.join(", ")}.`);
  const note = request.Note;
  if (
    note !== undefined &&
    (typeof note.Text !== "string" ||
      typeof note.UpdatedBy !== "string" ||
      note.Text.length === 0 ||
      note.Text.length > NOTE_LIMIT)
  )
    throw invalidInput(`Note needs Text (1-${NOTE_LIMIT} characters) and UpdatedBy.`);
  return identifiers.map((identifier) => {
    if (typeof identifier.Id !== "string" || typeof identifier.ProductArn !== "string")
      throw invalidInput("Each finding identifier needs Id and ProductArn.");
    return {
      id: identifier.Id,
      productArn: identifier.ProductArn,
      ...(status === undefined ? {} : { workflowStatus: status }),
      ...(note === undefined ? {} : { note: { text: String(note.Text), updatedBy: String(note.UpdatedBy) } }),
    };
  });
}

/** `updates`: every finding update received, in order (the simulator's Security Hub state). */
export function securityHubEndpoint(updates: SecurityHubUpdate[]): ServiceEndpoint {
  return {
    signingName: "securityhub",
    prepare(call: IncomingCall): PreparedCall {
      if (call.method !== "PATCH" || call.path !== "/findings/batchupdate") {
        return unservedRoute(call, invalidInput(`The simulator does not serve ${call.method} ${call.path}`));
      }
      let parsed: unknown = {};
      try {
        parsed = JSON.parse(call.body.toString("utf8") || "{}");
      } catch {
        // refused when executed
      }
      return {
        action: "BatchUpdateFindings",
        params: parsed as Record<string, unknown>,
        execute: () => {
          const received = updatesOf(call.body);
          updates.push(...received);
          return {
            status: 200,
            headers: { "content-type": "application/json" },
            body: JSON.stringify({
              ProcessedFindings: received.map((update) => ({
                Id: update.id,
                ProductArn: update.productArn,
              })),
              UnprocessedFindings: [],
            }),
          };
        },
      };
    },
    errorAnswer(error: AwsError, requestId: string): Answer {
      return restJsonErrorAnswer(error, requestId, { Message: error.message, Code: error.code });
    },
    throttlingError: () => new AwsError("TooManyRequestsException", "Rate exceeded", 429),
  };
}
