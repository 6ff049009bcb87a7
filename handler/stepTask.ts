import type { Logger } from "@aws-lambda-powertools/logger";

import { describeError, instanceGoneError, InstanceGoneError } from "./errors";
import type { IncidentFacts, IncidentRecord, StepName, StepRecord, StepStatus } from "./incidentRecord";
import { recordProblem } from "./incidentRecord";
import type { IncidentStore, RecordChanges } from "./incidentStore";
import type { ResponderDependencies } from "./invocation";
import type { ResponseContext } from "./responseContext";
import { captureEvidence } from "./steps/captureEvidence";
import { captureMemory } from "./steps/captureMemory";
import { cutAccess } from "./steps/cutAccess/cutAccess";
import { attachEvidenceVolumes, launchForensicInstance } from "./steps/forensicWorkspace";
import { replacement } from "./steps/replacement/replacement";
import { report } from "./steps/report";
import { snapshotAsFound, snapshotVolumes } from "./steps/snapshotVolumes";
import { stopInstance } from "./steps/stopInstance";
import { triage } from "./steps/triage";
import type { StepResult } from "./steps/stepResult";
import { WORKFLOW_STEPS, type StepTask, type StepTaskResult, type WorkflowStep } from "./workflow";

const STEP_FUNCTIONS: Readonly<Record<WorkflowStep, (context: ResponseContext) => Promise<StepResult>>> = {
  snapshotAsFound,
  cutAccess,
  captureEvidence,
  launchForensicInstance,
  replacement,
  captureMemory,
  stopInstance,
  snapshotVolumes,
  attachEvidenceVolumes,
  triage,
};

const TERMINAL: readonly StepStatus[] = ["done", "failed", "skipped"];

export function isTerminal(status: StepStatus | undefined): boolean {
  return status !== undefined && TERMINAL.includes(status);
}

/**
 * Saves a step's own parts of the record: its timeline entry, the facts it declares (handler/workflow.ts), and the
 * problems and dry-run notes it added since the record was loaded (appended once each).
 */
export function stepSaver(
  store: IncidentStore,
  record: IncidentRecord,
  changes: Pick<RecordChanges, "steps" | "facts" | "fields">,
  /** Fenced to this pass: its first save takes the step's entry over from the pass it names as loaded. */
  fence?: { readonly step: StepName; readonly pass: string },
): () => Promise<void> {
  const saved = {
    problems: new Set(record.facts.problems ?? []),
    wouldHave: new Set(record.facts.wouldHave ?? []),
  };
  let expected = fence === undefined ? undefined : record.steps[fence.step]?.pass;
  return async () => {
    const newProblems = (record.facts.problems ?? []).filter((line) => !saved.problems.has(line));
    const newWouldHave = (record.facts.wouldHave ?? []).filter((line) => !saved.wouldHave.has(line));
    await store.save(record, {
      ...changes,
      newProblems,
      newWouldHave,
      ...(fence === undefined ? {} : { fence: { step: fence.step, expected } }),
    });
    if (fence !== undefined) expected = fence.pass;
    newProblems.forEach((line) => saved.problems.add(line));
    newWouldHave.forEach((line) => saved.wouldHave.add(line));
  };
}

/** The facts a step changed that it does not declare (pure): a programming error its tests must catch. */
export function undeclaredWrites(
  before: string,
  after: IncidentFacts,
  declared: readonly (keyof IncidentFacts)[],
): string[] {
  const previous = JSON.parse(before) as IncidentFacts;
  const shared: readonly (keyof IncidentFacts)[] = ["problems", "wouldHave"];
  return (Object.keys({ ...previous, ...after }) as (keyof IncidentFacts)[]).filter(
    (fact) =>
      !declared.includes(fact) &&
      !shared.includes(fact) &&
      JSON.stringify(previous[fact]) !== JSON.stringify(after[fact]),
  );
}

/**
 * Starts a pass of `step` (pure apart from the record): its running entry, kept from the previous one where a pass
 * after a wait continues an attempt (any other pass starts one: the first, or after a crash), and its context.
 */
export function startPass(
  deps: ResponderDependencies,
  record: IncidentRecord,
  step: StepName,
  save: () => Promise<void>,
  resumed: boolean,
  pass?: string,
): { running: StepRecord; context: ResponseContext; continuing: boolean } {
  const previous = record.steps[step];
  const continuing = previous?.until !== undefined;
  const running: StepRecord = {
    status: "running",
    startedAt: previous?.startedAt ?? new Date().toISOString(),
    outcome: continuing ? (previous?.outcome ?? "started") : "started",
    attempts: (previous?.attempts ?? 0) + (continuing ? 0 : 1),
    detail: previous?.detail,
    ...(pass === undefined ? {} : { pass }),
  };
  record.steps[step] = running;
  const context: ResponseContext = {
    settings: deps.settings,
    aws: deps.aws,
    logger: deps.logger.createChild({ persistentKeys: { step } }),
    record,
    step,
    resumed,
    progress: continuing ? previous?.detail : undefined,
    checkpoint: save,
    store: deps.store,
  };
  return { running, context, continuing };
}

/**
 * One Task of the state machine: one pass of a step, a failure the state machine caught after its retries, or
 * the report. A thrown error means "interrupted": the Task's Retry runs the pass again.
 */
export async function runStepTask(
  task: StepTask,
  deps: ResponderDependencies,
  requestId: string,
): Promise<StepTaskResult> {
  const { incidentId, recordKey, step, failure } = task["ir:step"];
  const { logger, store } = deps;
  logger.appendKeys({ incidentId, step });
  const record = await store.load(recordKey);
  if (record === undefined || record.incidentId !== incidentId) {
    // Not this incident any more (released and claimed again): nothing to do for this execution.
    logger.warn("no such incident: step skipped", { recordKey });
    return { step, status: "skipped", outcome: `incident ${incidentId} not found` };
  }
  logger.appendKeys({ instanceId: record.instanceId });
  if (step === "report") return runReport(deps, record, failure);
  if (record.status === "released") {
    return { step, status: "skipped", outcome: "incident released" };
  }
  const save = stepSaver(store, record, { steps: [step], facts: WORKFLOW_STEPS[step].writes });
  const previous = record.steps[step];
  if (failure !== undefined) {
    // Failed for good after the Task's retries: recorded, and the branch goes on without it.
    const error = `${failure.Error ?? "Error"}: ${causeOf(failure.Cause)}`;
    record.steps[step] = {
      status: "failed",
      startedAt: previous?.startedAt ?? new Date().toISOString(),
      endedAt: new Date().toISOString(),
      outcome: `failed after the state machine's retries: ${error}`,
      attempts: previous?.attempts ?? 1,
      detail: previous?.detail,
    };
    logger.error("step failed for good", { error });
    await save();
    return { step, status: "failed", outcome: record.steps[step].outcome };
  }
  if (isTerminal(previous?.status)) {
    // A Task delivered again after the pass that ended it (its answer was lost): nothing is done twice.
    return { step, status: previous!.status as StepTaskResult["status"], outcome: previous!.outcome };
  }
  // Fenced: a Task retried while this pass still runs starts a newer pass, and this one's saves then fail.
  const fenced = stepSaver(
    store,
    record,
    { steps: [step], facts: WORKFLOW_STEPS[step].writes },
    { step, pass: requestId },
  );
  return runPass(deps, record, step, fenced, requestId);
}

async function runPass(
  deps: ResponderDependencies,
  record: IncidentRecord,
  step: WorkflowStep,
  save: () => Promise<void>,
  pass: string,
): Promise<StepTaskResult> {
  const previous = record.steps[step];
  const resumed = previous !== undefined && previous.until === undefined;
  const { running, context, continuing } = startPass(deps, record, step, save, resumed, pass);
  const { logger } = context;
  // The start is on record before any side effect: a pass that crashes is seen as such by its retry, and an
  // overlapping older pass can no longer write.
  await save();
  logger.info(continuing ? "step: next pass" : "step started", { attempt: running.attempts });
  const factsBefore = JSON.stringify(record.facts);
  let result: StepResult;
  try {
    result = await STEP_FUNCTIONS[step](context);
  } catch (caught) {
    const error = instanceGoneError(caught, record.instanceId);
    // An instance that vanished mid-response (terminated by someone else) is a recorded failure, not a retry:
    // retrying could never succeed, and what was already secured still deserves its report.
    if (error instanceof InstanceGoneError) {
      return finish(record, step, running, { status: "failed", outcome: error.message }, save, logger);
    }
    record.steps[step] = { ...running, outcome: `interrupted: ${describeError(error)}` };
    logger.warn("step interrupted; the state machine retries it", { error: describeError(error) });
    await save().catch((saveError: unknown) =>
      logger.warn("interruption not recorded", { error: describeError(saveError) }),
    );
    throw error;
  }
  const stray = undeclaredWrites(factsBefore, record.facts, WORKFLOW_STEPS[step].writes);
  if (stray.length > 0) throw new Error(`step ${step} wrote facts it does not declare: ${stray.join(", ")}`);
  return finish(record, step, running, result, save, logger);
}

async function finish(
  record: IncidentRecord,
  step: StepName,
  running: StepRecord,
  result: StepResult,
  save: () => Promise<void>,
  logger: Logger,
): Promise<StepTaskResult> {
  const waiting = result.status === "waiting";
  const until = waiting ? new Date(result.until ?? Date.now()).toISOString() : undefined;
  record.steps[step] = {
    ...running,
    status: waiting ? "running" : result.status,
    endedAt: waiting ? undefined : new Date().toISOString(),
    outcome: result.outcome,
    detail: result.detail,
    until,
  };
  logger.info(waiting ? "step waits" : "step ended", {
    status: result.status,
    outcome: result.outcome,
    until,
  });
  await save();
  return {
    step: step as StepTaskResult["step"],
    status: result.status,
    outcome: result.outcome,
    ...(until === undefined ? {} : { until }),
  };
}

/** Step Functions' Cause for a Lambda error is JSON with errorMessage: the message alone reads better. */
function causeOf(cause: string | undefined): string {
  if (cause === undefined) return "no cause given";
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === "string") return parsed.errorMessage;
  } catch {
    // not JSON: the cause as given
  }
  return cause.slice(0, 1000);
}

/**
 * The last Task: the report and the notification, whatever happened before. A failure the state machine caught
 * outside any step (the Parallel's Catch) is listed among the problems.
 */
async function runReport(
  deps: ResponderDependencies,
  record: IncidentRecord,
  failure: { Error?: string; Cause?: string } | undefined,
): Promise<StepTaskResult> {
  const save = stepSaver(deps.store, record, { steps: ["report"], facts: ["report"], fields: ["status"] });
  if (failure !== undefined) {
    recordProblem(
      record.facts,
      "report",
      `the workflow stopped early: ${failure.Error ?? "Error"}: ${causeOf(failure.Cause)}`,
    );
  }
  const previous = record.steps.report;
  if (previous?.status === "done" && record.facts.report?.messageId !== undefined) {
    return { step: "report", status: "done", outcome: previous.outcome };
  }
  const { running, context } = startPass(deps, record, "report", save, previous !== undefined);
  await save();
  const result = await report(context);
  return finish(record, "report", running, result, save, context.logger);
}
