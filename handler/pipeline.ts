import type { Logger } from "@aws-lambda-powertools/logger";

import {
  describeError,
  IncidentLeaseLostError,
  instanceGoneError,
  InstanceGoneError,
  LateRejectionError,
  TimeBudgetExhaustedError,
} from "./errors";
import type { IncidentRecord, StepName, StepRecord, StepStatus } from "./incidentRecord";
import type { ResponseContext } from "./responseContext";
import { attachEvidenceVolumes, launchForensicInstance } from "./steps/forensicWorkspace";
import { captureEvidence } from "./steps/captureEvidence";
import { captureMemory } from "./steps/captureMemory";
import { cutAccess } from "./steps/cutAccess";
import { isolateNetwork } from "./steps/isolateNetwork";
import { replacement } from "./steps/replacement";
import { report } from "./steps/report";
import { snapshotVolumes } from "./steps/snapshotVolumes";
import { stopInstance } from "./steps/stopInstance";
import type { StepResult } from "./steps/stepResult";

/** The steps the pipeline runs; acceptance and claim happen before the record exists (invocation.ts). */
type WorkStep = Exclude<StepName, "acceptEvent" | "claimIncident" | "report">;

/**
 * What each step waits for. Containment comes first and alone: nothing may compete with it for EC2's request
 * budget. Then, in parallel: access cuts, evidence capture, the forensic launch (early, so it has booted by the
 * time the evidence is ready) and — once the Auto Scaling detach is known — the replacement. Memory waits for
 * cutAccess because the kdump power-off must meet shutdown behaviour "stop" and an instance already out of its
 * Auto Scaling group (a stopped member would be terminated); stop waits for memory (a stop would end the dump);
 * snapshots wait for the stop (a quiet disk); the attach needs both the snapshots and the workstation.
 */
export const STEP_DEPENDENCIES: Readonly<Record<WorkStep, readonly WorkStep[]>> = {
  isolateNetwork: [],
  cutAccess: ["isolateNetwork"],
  captureEvidence: ["isolateNetwork"],
  launchForensicInstance: ["isolateNetwork"],
  replacement: ["cutAccess"],
  captureMemory: ["cutAccess"],
  stopInstance: ["captureMemory"],
  snapshotVolumes: ["stopInstance"],
  attachEvidenceVolumes: ["snapshotVolumes", "launchForensicInstance"],
};

const STEP_FUNCTIONS: Readonly<Record<WorkStep, (context: ResponseContext) => Promise<StepResult>>> = {
  isolateNetwork,
  cutAccess,
  captureEvidence,
  launchForensicInstance,
  replacement,
  captureMemory,
  stopInstance,
  snapshotVolumes,
  attachEvidenceVolumes,
};

export { instanceGoneError } from "./errors";

const TERMINAL: readonly StepStatus[] = ["done", "failed", "skipped"];

export function isTerminal(status: StepStatus | undefined): boolean {
  return status !== undefined && TERMINAL.includes(status);
}

/** The steps still to run, in dependency order (pure): what a resumed response will do. */
export function remainingSteps(steps: IncidentRecord["steps"]): WorkStep[] {
  const order: WorkStep[] = [];
  const visit = (step: WorkStep) => {
    if (order.includes(step)) return;
    STEP_DEPENDENCIES[step].forEach(visit);
    order.push(step);
  };
  (Object.keys(STEP_DEPENDENCIES) as WorkStep[]).forEach(visit);
  return order.filter((step) => !isTerminal(steps[step]?.status));
}

export type PipelineOutcome =
  | { readonly kind: "completed" }
  | { readonly kind: "waiting-for-snapshots" }
  | { readonly kind: "budget-exhausted" }
  /** The live instance refused the response after the claim; containment was undone (status released). */
  | { readonly kind: "released"; readonly rejection: LateRejectionError }
  | { readonly kind: "failed"; readonly error: unknown };

/**
 * Runs the response's steps for one invocation: each step once its dependencies are done, independent ones in
 * parallel, finished ones never again. The record is saved after every step, so a crash loses at most the step
 * in flight, and every step is written to be re-run safely (idempotent calls, recorded ids checked first).
 */
export async function runPipeline(
  context: ResponseContext,
  save: () => Promise<void>,
  logger: Logger,
): Promise<PipelineOutcome> {
  const { record } = context;
  const started = new Map<StepName, Promise<void>>();
  // Before giving an invocation up: keep what the other branches achieved (unless the lease is gone).
  const saveBeforeGivingUp = async (error: unknown): Promise<void> => {
    if (error instanceof IncidentLeaseLostError) return;
    await save().catch((saveError: unknown) =>
      logger.warn("progress not saved; the retry redoes the unsaved steps", {
        error: describeError(saveError),
      }),
    );
  };

  const runStep = async (step: WorkStep | "report", body: () => Promise<StepResult>): Promise<void> => {
    const previous = record.steps[step];
    if (isTerminal(previous?.status)) return;
    context.budget.ensure();
    const running: StepRecord = {
      status: "running",
      startedAt: previous?.startedAt ?? new Date().toISOString(),
      outcome: previous?.outcome ?? "started",
      attempts: (previous?.attempts ?? 0) + 1,
      detail: previous?.detail,
    };
    record.steps[step] = running;
    const stepLogger = logger.createChild({ persistentKeys: { step } });
    stepLogger.info("step started", { attempt: running.attempts });
    let result: StepResult;
    try {
      result = await body();
    } catch (caught) {
      if (caught instanceof LateRejectionError) {
        const undone = caught.restored.length;
        record.steps[step] = {
          ...running,
          status: "done",
          endedAt: new Date().toISOString(),
          outcome: `released: ${undone} ENI${undone === 1 ? "" : "s"} moved back to the original groups`,
          detail: { reason: caught.reason, restored: caught.restored },
        };
        stepLogger.warn("rejected on the live instance: containment undone", {
          reason: caught.reason,
          detail: caught.detail,
          restored: caught.restored,
        });
        throw caught; // the steps that wait for this one never start
      }
      // An instance that vanished mid-response (terminated by someone else) is a recorded failure, not a retry:
      // retrying could never succeed, and what was already secured still deserves its report.
      const error = instanceGoneError(caught, record.instanceId);
      if (error instanceof InstanceGoneError) {
        record.steps[step] = {
          ...running,
          status: "failed",
          endedAt: new Date().toISOString(),
          outcome: error.message,
        };
        stepLogger.warn("step failed: instance gone", { error: describeError(caught) });
        await save();
        return;
      }
      const interrupted =
        error instanceof TimeBudgetExhaustedError ? "interrupted by the time budget" : describeError(error);
      record.steps[step] = { ...running, status: "running", outcome: `interrupted: ${interrupted}` };
      stepLogger.warn("step interrupted", { error: describeError(error) });
      throw error;
    }
    const ended: StepRecord = {
      ...running,
      status: result.status === "waiting" ? "running" : result.status,
      endedAt: result.status === "waiting" ? undefined : new Date().toISOString(),
      outcome: result.outcome,
      detail: result.detail,
    };
    record.steps[step] = ended;
    stepLogger.info("step ended", { status: result.status, outcome: result.outcome });
    await save();
  };

  const run = (step: WorkStep): Promise<void> => {
    let promise = started.get(step);
    if (promise === undefined) {
      promise = (async () => {
        await Promise.all(STEP_DEPENDENCIES[step].map(run));
        await runStep(step, () => STEP_FUNCTIONS[step](context));
      })();
      started.set(step, promise);
    }
    return promise;
  };

  const settled = await Promise.allSettled((Object.keys(STEP_DEPENDENCIES) as WorkStep[]).map(run));
  const errors = [
    ...new Set(settled.flatMap((result) => (result.status === "rejected" ? [result.reason as unknown] : []))),
  ];
  const late = errors.find((error): error is LateRejectionError => error instanceof LateRejectionError);
  if (late !== undefined) {
    // Released, not deleted: the record (reason, ENIs moved back, timeline) stays as the audit trail, and the
    // claim treats a released record as free, so a later finding is evaluated afresh. No delete permission
    // on the incident table is needed.
    const releasedAt = new Date().toISOString();
    record.status = "released";
    record.facts.release = {
      reason: late.reason,
      detail: late.detail,
      releasedAt,
      restored: late.restored.map((eni) => ({ ...eni })),
    };
    const accepted = record.steps.acceptEvent;
    if (accepted !== undefined) {
      record.steps.acceptEvent = {
        ...accepted,
        outcome: `${accepted.outcome}; rejected on the live instance (${late.reason}): ${late.detail}`,
      };
    }
    try {
      await save();
    } catch (error) {
      // Not recorded: Lambda's retry checks the live instance again and ends the same way.
      return { kind: "failed", error };
    }
    return { kind: "released", rejection: late };
  }
  const fatal = errors.find((error) => !(error instanceof TimeBudgetExhaustedError));
  if (fatal !== undefined) {
    await saveBeforeGivingUp(fatal);
    return { kind: "failed", error: fatal };
  }
  if (errors.length > 0) return { kind: "budget-exhausted" };

  const waitingForSnapshots = !isTerminal(record.steps.attachEvidenceVolumes?.status);
  try {
    // The report step stays open while the response waits for snapshots: the interim report is re-run later.
    if (waitingForSnapshots) {
      record.status = "waiting-for-snapshots";
      await report(context, false);
      await save();
      return { kind: "waiting-for-snapshots" };
    }
    await runStep("report", () => report(context, true));
  } catch (error) {
    if (error instanceof TimeBudgetExhaustedError) return { kind: "budget-exhausted" };
    await saveBeforeGivingUp(error);
    return { kind: "failed", error };
  }
  return { kind: "completed" };
}
