import type { EventAcceptance } from "./acceptance/acceptance";
import type { IncidentRecord, InstanceFacts, ResponseTrigger } from "./incidentRecord";
import type { Claimant, ClaimResult, IncidentStore } from "./incidentStore";
import { boundedRawFinding } from "./rawFinding";

/** The timeline entries of the two steps that run before the record exists (pure). */
function openingSteps(
  accepted: Extract<EventAcceptance, { accepted: true }>,
  claimedAt: string,
  checkedLive = false,
): IncidentRecord["steps"] {
  const { finding } = accepted;
  const live = checkedLive ? "; checked on the live instance before any change" : "";
  return {
    acceptEvent: {
      status: "done",
      startedAt: accepted.receivedAt,
      endedAt: accepted.acceptedAt,
      outcome: `accepted ${finding.type}, severity ${finding.severity} (${finding.source}${live})`,
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
 * appended to that incident instead; a containment whose request gave up before starting the execution is
 * taken over.
 */
export function claimIncident(
  store: IncidentStore,
  pk: string,
  accepted: Extract<EventAcceptance, { accepted: true }>,
  rawFinding: string,
  dryRun: boolean,
  claimant: Claimant,
  trigger: ResponseTrigger,
  described?: { facts: InstanceFacts; raw: string },
): Promise<ClaimResult> {
  return store.claim(
    accepted.finding,
    pk,
    {
      // Bounded: an oversized event must not push the item past DynamoDB's limit and fail the claim.
      rawFinding: boundedRawFinding(rawFinding),
      // For a GuardDuty finding no instance description yet: isolateNetwork takes it in parallel with the first
      // change. An event AWS did not send was described (and checked) before the claim.
      dryRun,
      steps: openingSteps(accepted, new Date(claimant.now).toISOString(), described !== undefined),
      trigger,
      ...(described === undefined ? {} : { instance: described }),
    },
    claimant,
  );
}
