// A response asked for by a person (`{"ir:respond": …}`, a synchronous direct invoke) or by Security Hub's custom
// action: the live instance is checked first (no change before it), then claimed, contained and handed to the state
// machine exactly as for a finding, with the trigger recorded.
import type { Instance } from "@aws-sdk/client-ec2";
import type { Logger } from "@aws-lambda-powertools/logger";

import type { Rejection, RejectionReason } from "./acceptance/acceptance";
import type { InstanceFinding } from "./acceptance/finding";
import { checkLiveInstance } from "./acceptance/liveCheck";
import {
  acceptCustomAction,
  acceptRespondRequest,
  claimsToBeARequest,
  requestedFinding,
  type RequestedResponse,
} from "./acceptance/requested";
import { factsWithOriginalGroups } from "./containment/interfaces";
import type { InstanceFacts } from "./incidentRecord";
import { describeInstance } from "./instanceDescription";
import type { LambdaContext, ResponderDependencies } from "./invocation";
import { configuredResponderGroupIds } from "./securityGroups";
import type { Settings } from "./settings";

/** The answer to one requested response (the `ir respond` command prints it). */
export type RequestOutcome =
  | {
      readonly outcome: "contained";
      readonly instanceId: string;
      readonly incidentId: string;
      readonly executionArn: string;
    }
  | {
      readonly outcome: "already-responding";
      readonly instanceId: string;
      readonly incidentId: string;
      readonly reason: string;
    }
  | {
      readonly outcome: "rejected";
      readonly instanceId?: string;
      readonly reason: RejectionReason;
      /** Why, for a person. */
      readonly detail: string;
      /** Set when the instance was claimed, then released on the live instance. */
      readonly incidentId?: string;
    };

/** A Security Hub custom action's answer: one outcome per instance its findings name. */
export interface CustomActionOutcome {
  readonly outcome: "security-hub";
  readonly responses: readonly RequestOutcome[];
}

/** The live description a claim records for an instance checked before any change. */
export interface DescribedInstance {
  readonly facts: InstanceFacts;
  readonly raw: string;
}

/** How a checked request is claimed, contained and started: invocation.ts's, handed in (no import cycle). */
type ClaimAndRespond = typeof import("./invocation").claimAndRespond;

/** The facts of an instance described and checked before the claim (pure). */
export function describedFacts(
  instance: Instance,
  finding: InstanceFinding,
  settings: Settings,
): DescribedInstance {
  return {
    facts: factsWithOriginalGroups(
      instance,
      finding,
      configuredResponderGroupIds(settings.vpcSecurityGroups),
    ),
    raw: JSON.stringify(instance, null, 2),
  };
}

function refused(logger: Logger, rejection: Rejection, instanceId?: string): RequestOutcome {
  logger.info("request rejected", { reason: rejection.reason, detail: rejection.detail, instanceId });
  return {
    outcome: "rejected",
    ...(instanceId === undefined ? {} : { instanceId }),
    reason: rejection.reason,
    detail: rejection.detail,
  };
}

/**
 * A `{"ir:respond": …}` request or a Security Hub custom action event. A malformed one changes nothing and is
 * answered with the reason; nothing here throws on a rejection. A containment that cannot finish throws, as for a
 * finding (a Security Hub event is then retried by Lambda; a person's request answers with the error).
 */
export async function respondOnRequest(
  event: unknown,
  lambda: LambdaContext,
  deps: ResponderDependencies,
  claimAndRespond: ClaimAndRespond,
): Promise<RequestOutcome | CustomActionOutcome> {
  const { logger, settings } = deps;
  const raw = JSON.stringify(event);
  if (claimsToBeARequest(event)) {
    const accepted = acceptRespondRequest(event, lambda.awsRequestId, new Date());
    if (!accepted.accepted) return refused(logger, accepted);
    // Synchronous: no Lambda retry carries the claim on, so it is this request's for one timeout only.
    return respondTo(deps, lambda, accepted.request, raw, claimAndRespond, 1);
  }
  const action = acceptCustomAction(event, settings);
  if (!action.accepted) return { outcome: "security-hub", responses: [refused(logger, action)] };
  // Every instance, each on its own record; an interrupted one throws after the others (Lambda's retry resumes it
  // and finds the others under response).
  const settled = await Promise.allSettled(
    action.requests.map((request) => respondTo(deps, lambda, request, raw, claimAndRespond)),
  );
  const failure = settled.find((result): result is PromiseRejectedResult => result.status === "rejected");
  if (failure !== undefined) throw failure.reason;
  return {
    outcome: "security-hub",
    responses: [
      ...settled.flatMap((result) => (result.status === "fulfilled" ? [result.value] : [])),
      ...action.refused.map(({ rejection }) => refused(logger, rejection)),
    ],
  };
}

/** One instance: the live check before any change, then the claim, containment and execution. */
async function respondTo(
  deps: ResponderDependencies,
  lambda: LambdaContext,
  request: RequestedResponse,
  rawEvent: string,
  claimAndRespond: ClaimAndRespond,
  claimTimeouts?: number,
): Promise<RequestOutcome> {
  const { logger, settings } = deps;
  const { instanceId } = request;
  const receivedAt = new Date().toISOString();
  const instance = await describeInstance(deps.aws, instanceId, { whileThrottled: true });
  if (instance === undefined) {
    return refused(
      logger,
      {
        accepted: false,
        reason: "instance-gone",
        detail: `instance ${instanceId} not found in ${settings.region}`,
      },
      instanceId,
    );
  }
  const finding = requestedFinding(request, instance, settings);
  const verdict = checkLiveInstance(finding, instance, settings, request.trigger);
  if (!verdict.accepted) return refused(logger, verdict, instanceId);
  const accepted = { accepted: true, finding, receivedAt, acceptedAt: new Date().toISOString() } as const;
  const described = describedFacts(verdict.instance, finding, settings);
  const outcome = await claimAndRespond(
    deps,
    lambda,
    accepted,
    rawEvent,
    request.trigger,
    described,
    claimTimeouts,
  );
  switch (outcome.outcome) {
    case "started":
      return {
        outcome: "contained",
        instanceId,
        incidentId: outcome.incidentId,
        executionArn: outcome.executionArn,
      };
    case "appended":
      return {
        outcome: "already-responding",
        instanceId,
        incidentId: outcome.incidentId,
        reason: `incident ${outcome.incidentId} is ${outcome.why === "completed" ? "complete" : "under response"}`,
      };
    case "rejected":
      return {
        outcome: "rejected",
        instanceId,
        reason: outcome.reason as RejectionReason,
        detail: outcome.detail,
        ...(outcome.incidentId === undefined ? {} : { incidentId: outcome.incidentId }),
      };
  }
}
