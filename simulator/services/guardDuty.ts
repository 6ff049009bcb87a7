// GuardDuty (restJson1): ArchiveFindings, which `ir release --archive-finding` calls. The simulator keeps no
// detectors: it accepts any well-formed detector id (the one in a finding's ARN) and records what was archived.
import { AwsError } from "../errors";
import type { IncomingCall, PreparedCall, ServiceEndpoint } from "../wire/http";
import { restJsonErrorAnswer, unservedRoute } from "../wire/restJsonProtocol";

const ARCHIVE_PATH = /^\/detector\/([^/]+)\/findings\/archive$/;
/** GuardDuty's limits (API Reference, ArchiveFindings): a detector id of 1-300 characters, 1-50 finding ids. */
const MAX_FINDING_IDS = 50;

const badRequest = (message: string): AwsError => new AwsError("BadRequestException", message, 400);

/** The finding ids of a request body, or undefined when it names none GuardDuty would take. */
function findingIdsOf(body: Buffer): string[] | undefined {
  let ids: unknown;
  try {
    ids = (JSON.parse(body.toString("utf8") || "{}") as { findingIds?: unknown }).findingIds;
  } catch {
    return undefined;
  }
  const valid =
    Array.isArray(ids) &&
    ids.length > 0 &&
    ids.length <= MAX_FINDING_IDS &&
    ids.every((id) => typeof id === "string");
  return valid ? (ids as string[]) : undefined;
}

/** `archived`: the archived finding ids by detector id (the simulator's GuardDuty state). */
export function guardDutyEndpoint(archived: Map<string, Set<string>>): ServiceEndpoint {
  return {
    signingName: "guardduty",
    prepare(call: IncomingCall): PreparedCall {
      const match = ARCHIVE_PATH.exec(call.path);
      if (!match || call.method !== "POST")
        return unservedRoute(call, badRequest(`The simulator does not serve ${call.method} ${call.path}`));
      const detectorId = match[1] ?? "";
      const findingIds = findingIdsOf(call.body);
      return {
        action: "ArchiveFindings",
        params: { DetectorId: detectorId, FindingIds: findingIds },
        execute: () => {
          if (findingIds === undefined)
            throw badRequest(`findingIds must hold 1 to ${MAX_FINDING_IDS} finding ids`);
          if (detectorId.length > 300) throw badRequest("The input detectorId is not valid.");
          const ids = archived.get(detectorId) ?? new Set<string>();
          for (const id of findingIds) ids.add(id);
          archived.set(detectorId, ids);
          return { status: 200, headers: { "content-type": "application/json" }, body: "{}" };
        },
      };
    },
    errorAnswer: (error, requestId) =>
      restJsonErrorAnswer(error, requestId, { message: error.message, __type: error.code }),
    throttlingError: () => new AwsError("TooManyRequestsException", "Rate exceeded", 429),
  };
}
