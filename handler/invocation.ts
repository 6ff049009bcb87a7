import type { Logger } from "@aws-lambda-powertools/logger";
import type { AwsClients } from "./awsClients";
import { awsErrorCode, describeError } from "./errors";
import {
  claimsToBeAFinding,
  completionSnapshotIds,
  isContinuationEvent,
  isSnapshotCompletionEvent,
  looksLikeFindingEvent,
  structuralProblem,
  type RejectionReason,
} from "./findingEvent";
import { incidentKey, instanceIdOfIncident, type IncidentRecord, type InstanceFacts } from "./incidentRecord";
import type { ClaimResult, IncidentStore, LeaseHolder } from "./incidentStore";
import { describeInstance, tagsOf } from "./instanceDescription";
import { remainingSteps, runPipeline } from "./pipeline";
import { configuredResponderGroupIds } from "./securityGroups";
import { acceptBeforeFirstChange, acceptEvent, liveCheckComesFirst } from "./steps/acceptEvent";
import { claimIncident } from "./steps/claimIncident";
import { factsWithOriginalGroups } from "./steps/isolateNetwork";
import { interruptionNotification } from "./steps/report";
import { TimeBudget, type ResponseContext } from "./responseContext";
import type { Settings } from "./settings";
import { TAG_INCIDENT } from "./tags";

/** The part of Lambda's context object the handler uses. */
export interface LambdaContext {
  readonly awsRequestId: string;
  readonly functionName: string;
  readonly invokedFunctionArn?: string;
  getRemainingTimeInMillis(): number;
}

/** What one invocation did; the handler's return value (visible in tests, the drill and Lambda's logs). */
export type InvocationOutcome =
  | {
      readonly outcome: "rejected";
      readonly reason: RejectionReason | "unknown-event" | "no-such-incident";
      readonly detail: string;
      /**
       * Set when the live instance refused the response after the claim: the incident that was released (its
       * record says why and which ENIs were moved back to their original groups).
       */
      readonly incidentId?: string;
    }
  | { readonly outcome: "appended"; readonly incidentId: string; readonly why: "running" | "completed" }
  | { readonly outcome: "completed" | "waiting-for-snapshots" | "continued"; readonly incidentId: string };

export interface ResponderDependencies {
  readonly settings: Settings;
  readonly aws: AwsClients;
  readonly logger: Logger;
  readonly store: IncidentStore;
}

/** The incident table key; dry-run incidents live apart so a rehearsal never blocks the real response. */
export function recordKey(settings: Settings, instanceId: string): string {
  const key = incidentKey(settings.accountId, settings.region, instanceId);
  return settings.dryRun ? `dry-run#${key}` : key;
}

/**
 * One Lambda invocation: a GuardDuty finding, a continuation the handler sent itself, or EBS's completion
 * event for the snapshots a response waits for. Rejections return (no retry storm); an unfinished response
 * throws so Lambda's asynchronous retry resumes it.
 */
export async function handleEvent(
  event: unknown,
  lambda: LambdaContext,
  deps: ResponderDependencies,
): Promise<InvocationOutcome> {
  const { logger } = deps;
  logger.resetKeys();
  logger.appendKeys({ requestId: lambda.awsRequestId });
  const deadline = Date.now() + lambda.getRemainingTimeInMillis();
  const holder = (): LeaseHolder => ({ owner: lambda.awsRequestId, expiresAt: deadline, now: Date.now() });

  // Before any schema looks at it: superstruct recurses once per level (and prints what it refuses), so an
  // event nested 100 000 deep anywhere would overflow the stack and the invocation would throw (and be retried).
  const structure = structuralProblem(event);
  if (structure !== undefined) {
    return rejected(logger, claimsToBeAFinding(event) ? "malformed-finding" : "malformed-event", structure);
  }

  let claim: ClaimResult | undefined;
  if (isContinuationEvent(event)) {
    claim = await resumeIncident(deps, event["ir:continue"].incidentId, holder());
  } else if (isSnapshotCompletionEvent(event)) {
    const snapshots = completionSnapshotIds(event);
    if ("problem" in snapshots) return rejected(logger, "malformed-event", snapshots.problem);
    const incidentId = await incidentOfSnapshots(deps.aws, snapshots.ids);
    claim = incidentId === undefined ? undefined : await resumeIncident(deps, incidentId, holder());
  } else if (looksLikeFindingEvent(event)) {
    // The event alone decides here; for a GuardDuty finding the live instance is checked beside the first
    // network change.
    const accepted = acceptEvent(event, deps.settings);
    if (!accepted.accepted) return rejected(logger, accepted.reason, accepted.detail);
    const { finding } = accepted;
    logger.appendKeys({ instanceId: finding.instanceId, findingId: finding.findingId });
    // Any other event (ir.drill: anyone allowed events:PutEvents writes it, ENIs included) is checked on the
    // live instance before the claim and before any change; the claim records that description.
    let described: { facts: InstanceFacts; raw: string } | undefined;
    if (liveCheckComesFirst(finding)) {
      const instance = await describeInstance(deps.aws, finding.instanceId);
      const verdict = acceptBeforeFirstChange(finding, instance, deps.settings);
      if (!verdict.accepted) return rejected(logger, verdict.reason, verdict.detail);
      if (instance !== undefined) {
        described = {
          facts: factsWithOriginalGroups(
            instance,
            finding,
            configuredResponderGroupIds(deps.settings.vpcSecurityGroups),
          ),
          raw: JSON.stringify(instance, null, 2),
        };
      }
    }
    const pk = recordKey(deps.settings, finding.instanceId);
    claim = await claimIncident(
      deps.store,
      pk,
      accepted,
      JSON.stringify(event),
      deps.settings.dryRun,
      holder(),
      described,
    );
  } else {
    return rejected(
      logger,
      "unknown-event",
      "neither a GuardDuty finding, a continuation nor a snapshot completion",
    );
  }

  if (claim === undefined) return rejected(logger, "no-such-incident", "no incident matches this event");
  const record = claim.record;
  logger.appendKeys({ incidentId: record.incidentId, instanceId: record.instanceId });
  if (claim.kind === "appended") {
    logger.info("finding recorded on the running incident", {
      why: claim.why,
      findings: Object.keys(record.findings).length,
    });
    return { outcome: "appended", incidentId: record.incidentId, why: claim.why };
  }
  logger.info(claim.resumed ? "resuming the response" : "responding", {
    steps: remainingSteps(record.steps),
  });
  return respond(deps, lambda, record, holder(), claim.resumed);
}

function rejected(
  logger: Logger,
  reason: RejectionReason | "unknown-event" | "no-such-incident",
  detail: string,
): InvocationOutcome {
  logger.info("event rejected", { reason, detail });
  return { outcome: "rejected", reason, detail };
}

async function resumeIncident(
  deps: ResponderDependencies,
  incidentId: string,
  holder: LeaseHolder,
): Promise<ClaimResult | undefined> {
  const instanceId = instanceIdOfIncident(incidentId);
  if (instanceId === undefined) return undefined;
  const record = await deps.store.load(recordKey(deps.settings, instanceId));
  // A released incident is over: nothing resumes it (a new finding claims the instance afresh).
  if (record === undefined || record.incidentId !== incidentId || record.status === "released")
    return undefined;
  return deps.store.takeOver(record, holder);
}

/** Snapshot-completion events name snapshots, not incidents: the incident tag on the snapshots says which. */
async function incidentOfSnapshots(aws: AwsClients, snapshotIds: string[]): Promise<string | undefined> {
  if (snapshotIds.length === 0) return undefined;
  const answer = await aws.ec2.describeSnapshots({ SnapshotIds: snapshotIds }).catch((error: unknown) => {
    // Snapshots deleted since (not ours: ours are locked) mean "no incident"; anything else is a real error.
    if (awsErrorCode(error) === "InvalidSnapshot.NotFound") return { Snapshots: [] };
    throw error;
  });
  for (const snapshot of answer.Snapshots ?? []) {
    const incidentId = tagsOf(snapshot.Tags)[TAG_INCIDENT];
    if (incidentId !== undefined) return incidentId;
  }
  return undefined;
}

/** Sends the continuation: a fresh invocation gets a fresh 900 s; async, so this one ends now. */
async function continueInFreshInvocation(
  aws: AwsClients,
  lambda: LambdaContext,
  record: IncidentRecord,
): Promise<void> {
  await aws.lambda.invoke({
    FunctionName: lambda.invokedFunctionArn ?? lambda.functionName,
    InvocationType: "Event",
    Payload: new TextEncoder().encode(JSON.stringify({ "ir:continue": { incidentId: record.incidentId } })),
  });
}

/**
 * Whether the snapshots a resting response waits for have all left "pending" (completed, or one failed: the
 * attach step decides what that means). A failed look counts as "still pending": EBS's event resumes it.
 */
async function snapshotsNoLongerPending(
  aws: AwsClients,
  record: IncidentRecord,
  logger: Logger,
): Promise<boolean> {
  const snapshotIds = (record.facts.snapshots ?? []).map((snapshot) => snapshot.snapshotId);
  if (snapshotIds.length === 0) return false;
  try {
    const states = (await aws.ec2.describeSnapshots({ SnapshotIds: snapshotIds })).Snapshots ?? [];
    return states.length === snapshotIds.length && states.every((snapshot) => snapshot.State !== "pending");
  } catch (error) {
    logger.warn("snapshot states not read after the release; EBS's completion event resumes the response", {
      error: describeError(error),
    });
    return false;
  }
}

async function respond(
  deps: ResponderDependencies,
  lambda: LambdaContext,
  record: IncidentRecord,
  holder: LeaseHolder,
  resumed: boolean,
): Promise<InvocationOutcome> {
  const { settings, aws, logger, store } = deps;
  let saving: Promise<void> = Promise.resolve();
  // Saves are chained: parallel steps finish at any time, and each write must carry the version the last one set.
  // A failed save was already reported to the step that asked for it; the chain itself goes on.
  const save = (): Promise<void> => {
    saving = saving.catch(() => undefined).then(() => store.save(record, holder));
    return saving;
  };
  const context: ResponseContext = {
    settings,
    aws,
    logger,
    record,
    resumed,
    budget: new TimeBudget(() => lambda.getRemainingTimeInMillis(), settings.timeBudgetReserveSeconds * 1000),
    checkpoint: save,
  };
  const outcome = await runPipeline(context, save, logger);
  switch (outcome.kind) {
    case "completed":
      logger.info("response completed");
      return { outcome: "completed", incidentId: record.incidentId };
    case "released": {
      // The record is saved as released; its lease no longer matters (nothing takes a released incident over).
      const { reason, detail } = outcome.rejection;
      logger.info("event rejected on the live instance; incident released", { reason, detail });
      return { outcome: "rejected", reason, detail, incidentId: record.incidentId };
    }
    case "waiting-for-snapshots": {
      await store.release(record, holder.owner);
      // EBS's completion event resumes a resting response, but one that arrived while this invocation still
      // held the incident (between the step's last look and the release above) found it held and was
      // dropped. So, with the lease given up, look once more: snapshots no longer pending mean their event may
      // be lost, and a continuation takes the response on. One that arrives from now on finds the incident
      // free; if both come, the lease lets one of them respond.
      if (await snapshotsNoLongerPending(aws, record, logger)) {
        await continueInFreshInvocation(aws, lambda, record);
        logger.info("snapshots completed while the response came to rest: continuing in a fresh invocation");
        return { outcome: "continued", incidentId: record.incidentId };
      }
      logger.info("response waits for its snapshots; EBS's completion event resumes it");
      return { outcome: "waiting-for-snapshots", incidentId: record.incidentId };
    }
    case "budget-exhausted": {
      record.continuations += 1;
      await save();
      await store.release(record, holder.owner);
      await continueInFreshInvocation(aws, lambda, record);
      logger.info("time budget short: continuing in a fresh invocation", {
        continuations: record.continuations,
      });
      return { outcome: "continued", incidentId: record.incidentId };
    }
    case "failed": {
      const error = describeError(outcome.error);
      logger.error("response interrupted; Lambda's retry resumes it", { error });
      const notice = interruptionNotification(record, error);
      await Promise.all([
        store.release(record, holder.owner).catch((releaseError: unknown) =>
          logger.warn("lease not released: the next attempt waits for it to expire", {
            error: describeError(releaseError),
          }),
        ),
        aws.sns
          .publish({
            TopicArn: settings.notificationTopicArn,
            Subject: notice.subject,
            Message: notice.message,
          })
          .catch((publishError: unknown) =>
            logger.error("interruption notice not sent", { error: describeError(publishError) }),
          ),
      ]);
      throw outcome.error;
    }
  }
}
