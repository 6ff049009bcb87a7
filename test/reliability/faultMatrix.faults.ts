// The fault matrix's faults: which fault a (row, kind) case sets up, where (the simulator, the response-losing
// proxy, or the function a Task invokes), and how a case tells that it fired and where it surfaced.
import type { FaultKind as SimulatorFault } from "../../simulator";
import type { HistoryEvent } from "../../simulator/stepFunctions/history";
import {
  workflowDependencies,
  type StepTask,
  type StepTaskResult,
  type WorkflowStep,
} from "../../handler/workflow";
import type { Harness } from "../../testkit/harness";
import type { FaultKindName, StepFaultRow } from "./faultMatrix.rows";
import type { LostResponse, ResponseLosingProxy } from "./support/responseLosingProxy";

/** The steps the finding's invocation runs, before the execution: their faults are Lambda's retry to carry on. */
const FINDING_INVOCATION_STEPS: readonly string[] = ["acceptEvent", "claimIncident", "isolateNetwork"];

/** Whether the row's call is made by the finding's invocation (containment, then the execution's start). */
export function madeByTheFindingsInvocation(row: StepFaultRow): boolean {
  return FINDING_INVOCATION_STEPS.includes(row.step) || (row.step === "workflow" && row.service === "states");
}

/**
 * Whether the row's call is a Task's: the state machine invoking the responder for a pass. Step Functions calls
 * the function on the simulator's own front, not through the proxy (only the responder's endpoint is the proxy's).
 */
function isTaskCall(row: StepFaultRow): boolean {
  return row.service === "lambda" && row.action === "Invoke";
}

/** The simulator's fault of a kind for a row; undefined for "response lost" (the proxy's, or the lane's). */
function simulatorFault(kind: FaultKindName, row: StepFaultRow): SimulatorFault | undefined {
  switch (kind) {
    case "throttling":
      // The service's own throttling answer: the SDK backs off and retries (a Task: Lambda.TooManyRequests...).
      return { type: "throttle" };
    case "server error":
      return { type: "internalError" };
    case "timeout":
      // The request hangs and the connection drops before AWS executed it.
      return { type: "timeout", holdMs: 100 };
    case "response lost":
      // AWS executed the request; its answer never arrives (the other half of a timeout).
      return undefined;
    case "AWS error":
      return { type: "error", code: row.awsError.code, httpStatus: row.awsError.httpStatus };
  }
}

/** The step a Task's payload runs a pass of (undefined: not a pass, e.g. a caught failure being recorded). */
function passOf(payload: unknown): string | undefined {
  const task = (payload as Partial<StepTask> | undefined)?.["ir:step"];
  return task?.failure === undefined ? task?.step : undefined;
}

/** The step of the Task whose failure is the history's `index`-th event, from the TaskScheduled it follows. */
export function failedTaskStep(history: readonly HistoryEvent[], index: number): string | undefined {
  let event = history[index];
  while (event !== undefined && event.type !== "TaskScheduled")
    event = history.find((candidate) => candidate.id === event!.previousEventId);
  const parameters = (event?.taskScheduledEventDetails as { parameters?: string } | undefined)?.parameters;
  return passOf((JSON.parse(parameters ?? "{}") as { Payload?: unknown }).Payload);
}

/** Whether the fault reached the responder: a row whose fault never fired would prove nothing. */
export function faultFired(
  kind: FaultKindName,
  row: StepFaultRow,
  harness: Harness,
  lost: readonly LostResponse[],
  from: number,
): boolean {
  const hits = (text: string) => row.hits === undefined || row.hits.test(text);
  if (kind === "response lost")
    return lost.some((entry) => entry.action === row.action && hits(entry.request));
  return harness.sim.calls
    .slice(from)
    .some(
      (call) =>
        call.action === row.action && call.errorCode !== undefined && hits(JSON.stringify(call.params)),
    );
}

/**
 * Sets the case's fault up. The responder's calls meet the simulator's fault or the proxy's lost answer. A Task's
 * call is Step Functions': its front-side faults are the simulator's too; its lost answer is made in the function
 * the Task invokes, since the proxy does not see that call: the pass runs to its end, then the state machine gets
 * no answer (Lambda.SdkClientException, as it reports a call that got none). Lost answers of Tasks are added to
 * `lostTasks`.
 */
export function injectFault(
  proxy: ResponseLosingProxy,
  kind: FaultKindName,
  row: StepFaultRow,
  skip: number,
  harness: Harness,
  lostTasks: LostResponse[],
): void {
  const { sim } = harness;
  const fault = simulatorFault(kind, row);
  const simulate = (skipCalls: number) =>
    sim.faults.add({ service: row.service, action: row.action, skip: skipCalls, count: 1, fault: fault! });
  if (!isTaskCall(row)) {
    if (fault !== undefined) return simulate(skip);
    return proxy.loseResponses({ action: row.action, count: 1, skip });
  }
  if (row.task === undefined) {
    if (fault !== undefined) return simulate(skip);
    let calls = 0;
    harness.interceptTasks(async (payload, run) => {
      calls += 1;
      return calls === skip + 1 ? loseAnswer(payload, run) : run(payload);
    });
    return;
  }
  // The fault for the row's Task: its lost answer exactly; a front-side fault armed once every step it follows
  // has ended, so it meets the next call, the Task's own in a family where nothing else runs by then.
  const before = new Set(workflowDependencies()[row.task]);
  let fired = false;
  harness.interceptTasks(async (payload, run) => {
    const step = passOf(payload);
    if (fault === undefined && !fired && step === row.task) {
      fired = true;
      return loseAnswer(payload, run);
    }
    const answer = await run(payload);
    const status = (answer as Partial<StepTaskResult>).status;
    if (step !== undefined && status !== undefined && status !== "waiting")
      before.delete(step as WorkflowStep);
    if (fault !== undefined && !fired && before.size === 0) {
      fired = true;
      simulate(0);
    }
    return answer;
  });
  /** The pass runs to its end; then the state machine gets no answer, as from a call that got none. */
  async function loseAnswer(payload: unknown, run: (payload: unknown) => Promise<unknown>): Promise<never> {
    const answer = await run(payload);
    lostTasks.push({ action: row.action, request: JSON.stringify(payload), status: 200 });
    throw Object.assign(new Error(`the pass ran; its answer was lost: ${JSON.stringify(answer)}`), {
      name: "Lambda.SdkClientException",
    });
  }
}
