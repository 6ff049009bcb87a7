import type { IncidentRecord } from "../incidentRecord";
import type { ClaimResult, IncidentStore, LeaseHolder } from "../incidentStore";
import { boundedRawFinding } from "../rawFinding";
import type { EventAcceptance } from "./acceptEvent";

/** The timeline entries of the two steps that run before the record exists (pure). */
export function openingSteps(
  accepted: Extract<EventAcceptance, { accepted: true }>,
  claimedAt: string,
): IncidentRecord["steps"] {
  const { finding } = accepted;
  return {
    acceptEvent: {
      status: "done",
      startedAt: accepted.receivedAt,
      endedAt: accepted.acceptedAt,
      outcome: `accepted ${finding.type}, severity ${finding.severity} (${finding.source})`,
      attempts: 1,
    },
    claimIncident: {
      status: "done",
      startedAt: accepted.acceptedAt,
      endedAt: claimedAt,
      outcome: "incident claimed",
      attempts: 1,
    },
  };
}

/**
 * Step 1: claim the incident with one conditional write. A finding for an instance already under response is
 * appended to that incident instead; a response whose holder crashed is taken over and resumed.
 */
export function claimIncident(
  store: IncidentStore,
  pk: string,
  accepted: Extract<EventAcceptance, { accepted: true }>,
  rawFinding: string,
  dryRun: boolean,
  holder: LeaseHolder,
): Promise<ClaimResult> {
  return store.claim(
    accepted.finding,
    pk,
    {
      // Bounded: an oversized event must not push the item past DynamoDB's limit and fail the claim.
      rawFinding: boundedRawFinding(rawFinding),
      // No instance description yet: isolateNetwork takes it in parallel with the first change.
      dryRun,
      steps: openingSteps(accepted, new Date(holder.now).toISOString()),
    },
    holder,
  );
}
