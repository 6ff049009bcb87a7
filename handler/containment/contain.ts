import { describeError, instanceGoneError, InstanceGoneError, LateRejectionError } from "../errors";
import type { IncidentRecord, StepRecord } from "../incidentRecord";
import type { ResponderDependencies } from "../invocation";
import { isolateNetwork } from "./isolateNetwork";
import { isTerminal, startPass, stepSaver } from "../stepTask";
import { CONTAINMENT_WRITES } from "../workflow";

/**
 * Containment, in the invocation EventBridge triggered, before the state machine starts: isolateNetwork, then one
 * write of what it found and did. A retried invocation (resumed) carries an interrupted isolation on; one that
 * finds it recorded does nothing again. Throws LateRejectionError after releasing the incident when the live
 * instance refused the response; any other error after recording the interruption (Lambda's retry goes on).
 */
export async function contain(
  deps: ResponderDependencies,
  record: IncidentRecord,
  resumed: boolean,
): Promise<void> {
  const previous = record.steps.isolateNetwork;
  if (isTerminal(previous?.status)) return;
  const save = stepSaver(deps.store, record, {
    steps: ["acceptEvent", "isolateNetwork"],
    facts: [...CONTAINMENT_WRITES, "release"],
    fields: ["rawInstance", "status"],
  });
  const { running, context } = startPass(deps, record, "isolateNetwork", save, resumed);
  const { logger } = context;
  try {
    const result = await isolateNetwork(context);
    record.steps.isolateNetwork = {
      ...running,
      status: result.status === "waiting" ? "running" : result.status,
      endedAt: new Date().toISOString(),
      outcome: result.outcome,
      detail: result.detail,
    };
    logger.info("contained", { status: result.status, outcome: result.outcome });
    await save();
  } catch (caught) {
    if (caught instanceof LateRejectionError) {
      release(record, running, caught);
      logger.warn("rejected on the live instance: containment undone", {
        reason: caught.reason,
        detail: caught.detail,
        restored: caught.restored,
      });
      // Not recorded if this save fails: Lambda's retry checks the live instance again and ends the same way.
      await save();
      throw caught;
    }
    const error = instanceGoneError(caught, record.instanceId);
    if (error instanceof InstanceGoneError) {
      // Gone (terminated by someone else): recorded; the execution still reports what there is.
      record.steps.isolateNetwork = {
        ...running,
        status: "failed",
        endedAt: new Date().toISOString(),
        outcome: error.message,
      };
      logger.warn("isolation failed: instance gone", { error: describeError(caught) });
      await save();
      return;
    }
    record.steps.isolateNetwork = { ...running, outcome: `interrupted: ${describeError(error)}` };
    await save().catch((saveError: unknown) =>
      logger.warn("interruption not recorded; the retry isolates again", { error: describeError(saveError) }),
    );
    throw error;
  }
}

/**
 * Released, not deleted: the record (reason, ENIs moved back, timeline) stays as the audit trail, and the claim
 * treats a released record as free, so a later finding is evaluated afresh. No delete permission is needed.
 */
function release(record: IncidentRecord, running: StepRecord, late: LateRejectionError): void {
  const undone = late.restored.length;
  record.steps.isolateNetwork = {
    ...running,
    status: "done",
    endedAt: new Date().toISOString(),
    outcome: `released: ${undone} ENI${undone === 1 ? "" : "s"} moved back to the original groups`,
    detail: { reason: late.reason, restored: late.restored },
  };
  record.status = "released";
  record.facts.release = {
    reason: late.reason,
    detail: late.detail,
    releasedAt: new Date().toISOString(),
    restored: late.restored.map((eni) => ({ ...eni })),
  };
  const accepted = record.steps.acceptEvent;
  if (accepted !== undefined) {
    record.steps.acceptEvent = {
      ...accepted,
      outcome: `${accepted.outcome}; rejected on the live instance (${late.reason}): ${late.detail}`,
    };
  }
}
