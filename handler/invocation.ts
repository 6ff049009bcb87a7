import type { Logger } from "@aws-lambda-powertools/logger";
import { is, literal, object, optional, string, union, type as shape } from "superstruct";

import { acceptEvent, type EventAcceptance, type RejectionReason } from "./acceptance/acceptance";
import { DRILL_SOURCE } from "./acceptance/finding";
import { claimsToBeACustomAction, claimsToBeARequest } from "./acceptance/requested";
import { checkLiveInstance, liveCheckComesFirst } from "./acceptance/liveCheck";
import { claimsToBeAFinding, looksLikeFindingEvent, structuralProblem } from "./acceptance/structure";
import type { AwsClients } from "./awsClients";
import { awsErrorCode, describeError, LateRejectionError } from "./errors";
import {
  incidentKey,
  type IncidentRecord,
  type ResponseTrigger,
  type SecurityHubFindingRef,
} from "./incidentRecord";
import type { Claimant, IncidentStore } from "./incidentStore";
import { describeInstance } from "./instanceDescription";
import { claimIncident } from "./claimIncident";
import {
  describedFacts,
  respondOnRequest,
  type CustomActionOutcome,
  type DescribedInstance,
  type RequestOutcome,
} from "./requestedResponse";
import { interruptionNotification, isolationNotification } from "./steps/report";
import type { Settings } from "./settings";
import { contain } from "./containment/contain";
import { runStepTask } from "./stepTask";
import { guardDutyFindingInSecurityHub, updateSecurityHubWorkflow } from "./securityHub";
import {
  executionConsoleUrl,
  executionName,
  WORKFLOW_STEP_NAMES,
  type ExecutionInput,
  type StepTask,
  type StepTaskResult,
} from "./workflow";

/** The part of Lambda's context object the handler uses. */
export interface LambdaContext {
  readonly awsRequestId: string;
  readonly functionName: string;
  readonly invokedFunctionArn?: string;
  getRemainingTimeInMillis(): number;
}

/** What one invocation for a finding did (visible in tests, the drill and Lambda's logs). */
export type FindingOutcome =
  | {
      readonly outcome: "rejected";
      readonly reason: RejectionReason | "unknown-event";
      readonly detail: string;
      /**
       * Set when the live instance refused the response after the claim: the incident that was released (its
       * record says why and which ENIs were moved back to their original groups).
       */
      readonly incidentId?: string;
    }
  | { readonly outcome: "appended"; readonly incidentId: string; readonly why: "running" | "completed" }
  /** Contained, and the state machine's execution started (or already running: a retried invocation). */
  | { readonly outcome: "started"; readonly incidentId: string; readonly executionArn: string };

/**
 * The handler's return value: a finding's outcome, a step's answer to the state machine, or the answer to a
 * requested response (a person's, or Security Hub's custom action).
 */
export type InvocationOutcome = FindingOutcome | StepTaskResult | RequestOutcome | CustomActionOutcome;

export interface ResponderDependencies {
  readonly settings: Settings;
  readonly aws: AwsClients;
  readonly logger: Logger;
  readonly store: IncidentStore;
}

/** The incident table key; dry-run incidents live apart so a rehearsal never blocks the real response. */
function recordKey(settings: Settings, instanceId: string): string {
  const key = incidentKey(settings.accountId, settings.region, instanceId);
  return settings.dryRun ? `dry-run#${key}` : key;
}

/** The state machine's Task payload (handler/workflow.ts), checked before anything is loaded. Built on call. */
function stepTaskSchema() {
  const steps = [...WORKFLOW_STEP_NAMES, "report"] as const;
  return object({
    "ir:step": object({
      incidentId: string(),
      recordKey: string(),
      step: union(steps.map((step) => literal(step)) as never),
      failure: optional(shape({ Error: optional(string()), Cause: optional(string()) })),
    }),
  });
}

/**
 * How long a claim is its request's, in invocation timeouts: Lambda delivers an asynchronous event at most three
 * times (two retries, about one and two minutes apart), each attempt at most one timeout long; with the timeout at
 * least 120 s (infra/config.ts), the two delays are shorter than two more timeouts.
 */
const CLAIM_TIMEOUTS = 5;

/**
 * One Lambda invocation: a finding (from EventBridge), or one pass of a step (from the state machine).
 * Rejections return (no retry storm); a containment that could not finish throws so Lambda's retry carries it on.
 */
export async function handleEvent(
  event: unknown,
  lambda: LambdaContext,
  deps: ResponderDependencies,
): Promise<InvocationOutcome> {
  const { logger } = deps;
  logger.resetKeys();
  logger.appendKeys({ requestId: lambda.awsRequestId });

  // Before any schema looks at it: superstruct recurses once per level (and prints what it refuses), so an
  // event nested 100 000 deep anywhere would overflow the stack and the invocation would throw (and be retried).
  const structure = structuralProblem(event);
  if (structure !== undefined) {
    return rejected(logger, claimsToBeAFinding(event) ? "malformed-finding" : "malformed-event", structure);
  }
  if (is(event, stepTaskSchema())) return runStepTask(event as StepTask, deps, lambda.awsRequestId);
  if (claimsToBeARequest(event) || claimsToBeACustomAction(event)) {
    return respondOnRequest(event, lambda, deps, claimAndRespond);
  }
  if (!looksLikeFindingEvent(event)) {
    return rejected(
      logger,
      "unknown-event",
      "neither a GuardDuty finding, a step of the response, nor a requested response",
    );
  }

  // The event alone decides here; for a GuardDuty finding the live instance is checked beside the first
  // network change.
  const accepted = acceptEvent(event, deps.settings);
  if (!accepted.accepted) return rejected(logger, accepted.reason, accepted.detail);
  const { finding } = accepted;
  logger.appendKeys({ instanceId: finding.instanceId, findingId: finding.findingId });
  // Any other event (ir.drill: anyone allowed events:PutEvents writes it, ENIs included) is checked on the
  // live instance before the claim and before any change; the claim records that description.
  let described: DescribedInstance | undefined;
  if (liveCheckComesFirst(finding)) {
    const verdict = checkLiveInstance(
      finding,
      await describeInstance(deps.aws, finding.instanceId, { whileThrottled: true }),
      deps.settings,
    );
    if (!verdict.accepted) return rejected(logger, verdict.reason, verdict.detail);
    described = describedFacts(verdict.instance, finding, deps.settings);
  }
  // A drill's finding is not in Security Hub: only GuardDuty's own findings have a copy there to update.
  const trigger: ResponseTrigger =
    finding.source === DRILL_SOURCE
      ? { kind: "drill" }
      : { kind: "guardduty", ...securityHubRef(guardDutyFindingInSecurityHub(finding)) };
  return claimAndRespond(deps, lambda, accepted, JSON.stringify(event), trigger, described);
}

function securityHubRef(ref: SecurityHubFindingRef | undefined): Pick<ResponseTrigger, "securityHubFinding"> {
  return ref === undefined ? {} : { securityHubFinding: ref };
}

/**
 * Claims the incident for an accepted event, then contains the instance and starts the execution; a finding for
 * an instance already under response is appended to its incident. `claimTimeouts`: how many invocation timeouts
 * the claim is this request's (a synchronous request has no Lambda retries: one).
 */
export async function claimAndRespond(
  deps: ResponderDependencies,
  lambda: LambdaContext,
  accepted: Extract<EventAcceptance, { accepted: true }>,
  rawEvent: string,
  trigger: ResponseTrigger,
  described: DescribedInstance | undefined,
  claimTimeouts = CLAIM_TIMEOUTS,
): Promise<FindingOutcome> {
  const { logger } = deps;
  const { finding } = accepted;
  const now = Date.now();
  const claimant: Claimant = {
    requestId: lambda.awsRequestId,
    now,
    // This request and Lambda's retries of it are over by then: a later finding may carry an abandoned claim.
    expiresAt: now + claimTimeouts * lambda.getRemainingTimeInMillis(),
  };
  const pk = recordKey(deps.settings, finding.instanceId);
  const claim = await claimIncident(
    deps.store,
    pk,
    accepted,
    rawEvent,
    deps.settings.dryRun,
    claimant,
    trigger,
    described,
  );
  const record = claim.record;
  logger.appendKeys({ incidentId: record.incidentId, instanceId: record.instanceId });
  if (claim.kind === "appended") {
    logger.info("finding recorded on the incident", {
      why: claim.why,
      findings: Object.keys(record.findings).length,
    });
    return { outcome: "appended", incidentId: record.incidentId, why: claim.why };
  }
  logger.info(claim.resumed ? "carrying the containment on" : "responding");
  return containAndStart(deps, record, claim.resumed);
}

function rejected(logger: Logger, reason: RejectionReason | "unknown-event", detail: string): FindingOutcome {
  logger.info("event rejected", { reason, detail });
  return { outcome: "rejected", reason, detail };
}

/**
 * Tells people at once that the instance is isolated (at least once: a retried invocation may tell them again).
 * Best effort: a failed publish is a problem on the record, never a failed containment. Returns the problem.
 */
async function publishIsolationNotice(
  deps: ResponderDependencies,
  record: IncidentRecord,
): Promise<string | undefined> {
  const { settings, aws, logger } = deps;
  const notice = isolationNotification(record, settings.evidenceBucket, settings.timeScale);
  try {
    await aws.sns.publish({
      TopicArn: settings.notificationTopicArn,
      Subject: notice.subject,
      Message: notice.message,
    });
    return undefined;
  } catch (error) {
    logger.warn("isolation notice not sent", { error: describeError(error) });
    return `isolateNetwork: isolation notice not sent (${describeError(error)})`;
  }
}

/**
 * Isolates the instance, records it, and starts the state machine's execution named by the incident id: Step
 * Functions refuses a second execution of that name, so a retried invocation starts nothing new.
 */
async function containAndStart(
  deps: ResponderDependencies,
  record: IncidentRecord,
  resumed: boolean,
): Promise<FindingOutcome> {
  const { settings, aws, logger, store } = deps;
  try {
    await contain(deps, record, resumed);
  } catch (error) {
    if (error instanceof LateRejectionError) {
      const { reason, detail } = error;
      logger.info("event rejected on the live instance; incident released", { reason, detail });
      return { outcome: "rejected", reason, detail, incidentId: record.incidentId };
    }
    const described = describeError(error);
    logger.error("containment interrupted; Lambda's retry carries it on", { error: described });
    const notice = interruptionNotification(record, described);
    await aws.sns
      .publish({ TopicArn: settings.notificationTopicArn, Subject: notice.subject, Message: notice.message })
      .catch((publishError: unknown) =>
        logger.error("interruption notice not sent", { error: describeError(publishError) }),
      );
    throw error;
  }

  const name = executionName(record.incidentId);
  const input: ExecutionInput = { incidentId: record.incidentId, recordKey: record.pk };
  let executionArn: string;
  try {
    const started = await aws.stepFunctions.startExecution({
      stateMachineArn: settings.stateMachineArn,
      name,
      input: JSON.stringify(input),
    });
    executionArn = started.executionArn ?? "";
  } catch (error) {
    // Same name and input as a running execution is answered with it (idempotent); ExecutionAlreadyExists means
    // this incident's execution has closed meanwhile (a retried invocation, or one that lost the answer): it was
    // the response, and nothing starts twice.
    if (awsErrorCode(error) !== "ExecutionAlreadyExists") throw error;
    executionArn = settings.stateMachineArn.replace(":stateMachine:", ":execution:") + `:${name}`;
  }
  record.execution = {
    arn: executionArn,
    name,
    startedAt: new Date().toISOString(),
    consoleUrl: executionConsoleUrl(settings.region, executionArn),
  };
  await store.save(record, { steps: [], facts: [], fields: ["execution"] });
  logger.info("execution started", { executionArn });
  const securityHub = await updateSecurityHubWorkflow(deps, record, "isolateNetwork", "NOTIFIED");
  if (securityHub !== undefined) logger.warn("Security Hub finding not updated", { problem: securityHub });
  const problems = [securityHub, await publishIsolationNotice(deps, record)].filter(
    (problem) => problem !== undefined,
  );
  if (problems.length > 0) await store.save(record, { steps: [], facts: [], newProblems: problems });
  return { outcome: "started", incidentId: record.incidentId, executionArn };
}
