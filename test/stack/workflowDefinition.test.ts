// The response workflow's definition, generated from the step contracts (infra/workflowDefinition.ts): its validity
// (asl-validator 4, which must also catch a broken one), its error handling and waits (run by aws-local-stepfunctions
// with fake Tasks), and its state transitions and cost (infra/workflowTransitions.ts). Its order: workflowPlan.test.ts.
import { expect } from "chai";
import {
  WORKFLOW_STEP_NAMES,
  WORKFLOW_STEPS,
  type StepTask,
  type StepTaskResult,
} from "../../handler/workflow";
import { allStateNames, STATE_NAME_LIMIT, type Definition, type State } from "../../infra/stateLanguage";
import {
  parallelName,
  REPORT,
  REPORT_AFTER_FAILURE,
  REPORT_FAILED_NOTIFY,
  workflowDefinition,
} from "../../infra/workflowDefinition";
import { LAMBDA_TRANSIENT_ERRORS } from "../../infra/workflowRetries";
import { stateTransitions, transitionCost, USD_PER_1000_TRANSITIONS } from "../../infra/workflowTransitions";
import { runLocally, taskError, type TaskCall } from "./localExecution";
import { ancestors, ARGS, INPUT, statesOf, validate } from "./workflowFixtures";

describe("the response workflow's definition (infra/workflowDefinition.ts)", () => {
  const definition = workflowDefinition(ARGS);
  const states = statesOf(definition);
  const stateNamed = (name: string) => {
    const found = states.find(([stateName]) => stateName === name);
    if (found === undefined) throw new Error(`no state ${name}`);
    return found[1];
  };

  it("is valid Amazon States Language (asl-validator 4)", () => {
    const result = validate(definition);
    expect(result.isValid, result.errorsText("\n")).to.equal(true);
    console.log(`      ${states.length} states: ${allStateNames(definition).join(", ")}`);
  });

  it("the validation catches a broken definition (a Next to no state, a missing StartAt)", () => {
    const broken = JSON.parse(JSON.stringify(definition)) as Definition;
    (broken.States[REPORT_AFTER_FAILURE] as State).Next = "no such state";
    expect(validate(broken).isValid).to.equal(false);
    expect(validate(broken).errorsText("\n")).to.match(/no such state/);
    const headless = JSON.parse(JSON.stringify(definition)) as Definition;
    headless.StartAt = "nowhere";
    expect(validate(headless).isValid).to.equal(false);
  });

  it("names states uniquely, within Step Functions' 80 characters, and comments each step from its purpose", () => {
    const names = allStateNames(definition);
    expect(new Set(names).size).to.equal(names.length);
    expect(names.filter((name) => name.length > STATE_NAME_LIMIT)).to.deep.equal([]);
    for (const step of WORKFLOW_STEP_NAMES)
      expect(stateNamed(step).Comment).to.equal(WORKFLOW_STEPS[step].purpose);
    // A Parallel of many long branches: cut to 80 characters, and still apart from its neighbours.
    const long = parallelName([
      "attachEvidenceVolumes",
      "launchForensicInstance",
      "captureEvidence",
      "cutAccess",
    ]);
    const other = parallelName([
      "attachEvidenceVolumes",
      "launchForensicInstance",
      "captureEvidence",
      "replacement",
    ]);
    expect(long).to.have.length(STATE_NAME_LIMIT);
    expect(long).not.to.equal(other);
  });

  it("invokes the given qualified ARN with the StepTask payload, keeping the answer and the ids", () => {
    const invokes = states.filter(([, state]) => state.Resource === "arn:aws:states:::lambda:invoke");
    expect(invokes).to.have.length(2 * WORKFLOW_STEP_NAMES.length + 2);
    for (const [name, state] of invokes) {
      expect(state.Parameters?.FunctionName, name).to.equal(ARGS.functionArn);
      const payload = (state.Parameters?.Payload as Record<string, Record<string, string>>)["ir:step"];
      expect(payload?.["incidentId.$"], name).to.equal("$.incidentId");
      expect(payload?.["recordKey.$"], name).to.equal("$.recordKey");
      expect(state.ResultSelector, name).to.deep.equal({ "answer.$": "$.Payload" });
      expect(state.ResultPath, name).to.equal("$.result");
      expect(state.TimeoutSeconds, name).to.equal(ARGS.taskTimeoutSeconds);
    }
  });

  it("retries Lambda's transient errors, its crashes and timeouts, and the handler's throws, with full jitter", () => {
    for (const [name, state] of states.filter(([, s]) => s.Type === "Task")) {
      const retry = state.Retry ?? [];
      expect(retry.length, name).to.be.greaterThan(0);
      expect(
        retry.every((r) => r.JitterStrategy === "FULL"),
        name,
      ).to.equal(true);
      if (state.Resource !== "arn:aws:states:::lambda:invoke") continue;
      expect(retry.map((r) => r.ErrorEquals)).to.deep.equal([
        ["States.Permissions"],
        LAMBDA_TRANSIENT_ERRORS,
        ["Lambda.Unknown", "States.Timeout"],
        ["States.TaskFailed"],
      ]);
      // A denied invoke is not retried: States.TaskFailed would match it, so it is named first, with no attempt.
      expect(retry.map((r) => r.MaxAttempts)).to.deep.equal([0, 6, 2, 4]);
    }
    // The documented transient errors (Lambda.ClientExecutionTimeoutException, ServiceException,
    // AWSLambdaException, SdkClientException) and the concurrency limit.
    expect(LAMBDA_TRANSIENT_ERRORS).to.include.members([
      "Lambda.ServiceException",
      "Lambda.AWSLambdaException",
      "Lambda.SdkClientException",
      "Lambda.TooManyRequestsException",
    ]);
  });

  it("catches every failure without losing the ids, and every Parallel discards its branches' output", () => {
    for (const [name, state] of states) {
      for (const catcher of state.Catch ?? []) {
        expect(catcher, name).to.deep.include({ ErrorEquals: ["States.ALL"], ResultPath: "$.failure" });
      }
      // Every Task but the last resort, telling the topic that the report failed, catches its failures.
      if (state.Type === "Task" && name !== REPORT_FAILED_NOTIFY)
        expect(state.Catch ?? [], name).to.have.length.greaterThan(0);
      if (state.Type === "Parallel") expect(state.ResultPath, name).to.equal(null);
    }
    const top = definition.States[definition.StartAt] as State;
    expect(top.Type).to.equal("Parallel");
    expect(top.Catch?.[0]?.Next).to.equal(REPORT_AFTER_FAILURE);
    expect(top.Next).to.equal(REPORT);
    expect(stateNamed(REPORT).Catch?.[0]?.Next).to.equal(REPORT_FAILED_NOTIFY);
    expect(stateNamed(REPORT_FAILED_NOTIFY).Parameters?.TopicArn).to.equal(ARGS.topicArn);
  });
});

/** The handler's part, faked: each step answers "waiting" `waits[step]` times, then done; `fail` steps throw. */
function fakeResponder(options: {
  waits?: Partial<Record<string, number>>;
  throwing?: Record<string, string>;
  answer?: Record<string, unknown>;
  reportFails?: boolean;
}) {
  const passes = new Map<string, number>();
  const log: { step: string; event: "start" | "end"; failure?: unknown }[] = [];
  const fake = (call: TaskCall): unknown => {
    if (call.resource !== "arn:aws:states:::lambda:invoke") return undefined;
    const task = call.input.Payload as StepTask;
    const { step, failure } = task["ir:step"];
    log.push({ step, event: "start", ...(failure === undefined ? {} : { failure }) });
    if (step === REPORT && options.reportFails === true) throw taskError("ReportError", "the table is gone");
    const thrown = failure === undefined ? options.throwing?.[step] : undefined;
    if (thrown !== undefined) throw taskError(thrown, `${step} could not finish`);
    if (failure === undefined && options.answer?.[step] !== undefined) return options.answer[step];
    const pass = passes.get(step) ?? 0;
    passes.set(step, pass + 1);
    const waiting = failure === undefined && step !== REPORT && pass < (options.waits?.[step] ?? 0);
    log.push({ step, event: "end" });
    const answer: StepTaskResult = waiting
      ? { step, status: "waiting", outcome: "power-off pending", until: new Date(0).toISOString() }
      : { step, status: failure === undefined ? "done" : "failed", outcome: "ok" };
    return answer;
  };
  return { fake, log };
}

describe("the response workflow, run by aws-local-stepfunctions with fake Tasks", function () {
  this.timeout(60_000);
  const definition = workflowDefinition(ARGS);
  const TYPICAL = { captureMemory: 3, stopInstance: 2, snapshotVolumes: 4, launchForensicInstance: 2 };

  it("runs every step once per pass, waits where asked, orders steps by their contracts, then reports", async () => {
    const { fake, log } = fakeResponder({ waits: TYPICAL });
    const run = await runLocally(definition, INPUT, fake);
    expect(run.status, run.error).to.equal("SUCCEEDED");
    for (const call of run.calls) {
      const payload = (call.input.Payload as StepTask)["ir:step"];
      expect(payload.incidentId, call.state).to.equal(INPUT.incidentId);
      expect(payload.recordKey, call.state).to.equal(INPUT.recordKey);
    }
    const passes = (step: string) => log.filter((e) => e.step === step && e.event === "start").length;
    for (const step of WORKFLOW_STEP_NAMES)
      expect(passes(step), step).to.equal(1 + ((TYPICAL as Record<string, number>)[step] ?? 0));
    // In the order the calls happened: a step's first pass only after the last pass of everything it depends on.
    const firstStart = (step: string) => log.findIndex((e) => e.step === step && e.event === "start");
    const lastEnd = (step: string) => log.map((e) => e.step === step && e.event === "end").lastIndexOf(true);
    for (const step of WORKFLOW_STEP_NAMES) {
      for (const ancestor of ancestors(step)) {
        expect(firstStart(step), `${step} after ${ancestor}`).to.be.greaterThan(lastEnd(ancestor));
      }
    }
    expect(log.at(-1)?.step).to.equal(REPORT);
    expect(run.calls.filter((c) => c.state === REPORT)).to.have.length(1);
  });

  it("counts the state transitions the estimate gives (none waiting, waits, failing steps)", async () => {
    // The library's event log is whole only without Parallel states (test/stack/localExecution.ts): the estimate's
    // rules for Tasks, Choices, Waits, retries, catches and branch ends are checked on the steps in one line.
    const line = workflowDefinition(ARGS, {
      kind: "sequence",
      items: WORKFLOW_STEP_NAMES.map((step) => ({ kind: "step" as const, step })),
    });
    const shapes = [
      {},
      { waits: TYPICAL },
      { failing: ["cutAccess"] },
      { waits: { attachEvidenceVolumes: 5 }, failing: ["captureEvidence", "replacement"] },
    ];
    for (const shape of shapes) {
      const { fake } = fakeResponder({
        ...("waits" in shape ? { waits: shape.waits } : {}),
        throwing: Object.fromEntries((shape.failing ?? []).map((step) => [step, "Error"])),
      });
      const run = await runLocally(line, INPUT, fake);
      expect(run.status, run.error).to.equal("SUCCEEDED");
      expect(run.transitions, JSON.stringify(shape)).to.equal(stateTransitions(line, shape));
    }
    // The generated workflow: each step's Task and Choice, 3 Parallels, 5 branch ends and the report; a wait pass is
    // a Wait, the Task again and its Choice; a step failing for good adds its 4 retries and its recording.
    const none = stateTransitions(definition);
    const typical = stateTransitions(definition, { waits: TYPICAL });
    expect(none).to.equal(2 * WORKFLOW_STEP_NAMES.length + 3 + 5 + 1);
    expect(typical - none).to.equal(3 * 11);
    expect(stateTransitions(definition, { failing: ["captureMemory"] }) - none).to.equal(4 + 1 - 1);
    console.log(
      `      state transitions: ${none} without waits, ${typical} with typical waits (${JSON.stringify(TYPICAL)}): ` +
        `USD ${transitionCost(typical).toFixed(5)} per incident at ${USD_PER_1000_TRANSITIONS} per 1,000`,
    );
    expect(transitionCost(1000)).to.equal(0.025);
  });

  it("records a step that fails for good after its retries, and the steps after it still run", async () => {
    const { fake, log } = fakeResponder({ throwing: { captureMemory: "Error" } });
    const run = await runLocally(definition, INPUT, fake);
    expect(run.status, run.error).to.equal("SUCCEEDED");
    // One try and the four States.TaskFailed retries.
    expect(run.calls.filter((c) => c.state === "captureMemory")).to.have.length(5);
    const recorded = log.find((e) => e.step === "captureMemory" && e.failure !== undefined);
    expect(recorded?.failure).to.deep.include({ Error: "Error" });
    expect(String((recorded?.failure as { Cause?: string }).Cause)).to.include(
      "captureMemory could not finish",
    );
    for (const step of ["stopInstance", "snapshotVolumes", "attachEvidenceVolumes", REPORT]) {
      expect(
        log.some((e) => e.step === step && e.event === "end"),
        step,
      ).to.equal(true);
    }
  });

  it("retries Lambda's throttling before anything else, then records it", async () => {
    const { fake } = fakeResponder({ throwing: { captureEvidence: "Lambda.TooManyRequestsException" } });
    const run = await runLocally(definition, INPUT, fake);
    expect(run.status).to.equal("SUCCEEDED");
    expect(run.calls.filter((c) => c.state === "captureEvidence")).to.have.length(7);
    expect(run.calls.filter((c) => c.state === "captureEvidence: record failure")).to.have.length(1);
  });

  it("records an answer that waits without a time as the step's failure, instead of failing the execution", async () => {
    const { fake, log } = fakeResponder({
      answer: { stopInstance: { step: "stopInstance", status: "waiting", outcome: "stopping" } },
    });
    const run = await runLocally(definition, INPUT, fake);
    expect(run.status, run.error).to.equal("SUCCEEDED");
    expect(log.find((e) => e.step === "stopInstance" && e.failure !== undefined)?.failure).to.deep.include({
      Error: "ir.InvalidStepAnswer",
    });
  });

  it("tells the topic, with the incident, when the report cannot be written, and the execution fails", async () => {
    const { fake } = fakeResponder({ reportFails: true });
    const run = await runLocally(definition, INPUT, fake);
    expect(run.status).to.equal("FAILED");
    const published = run.calls.filter((c) => c.state === REPORT_FAILED_NOTIFY);
    expect(published).to.have.length(1);
    expect(published[0]?.input.TopicArn).to.equal(ARGS.topicArn);
    expect(String(published[0]?.input.Message)).to.include(INPUT.incidentId).and.to.include("ReportError");
  });

  it("reports an unexpected failure of the workflow itself, with the error, and the execution fails", async () => {
    // A branch that fails (here a step's end made a Fail state): the top-level Parallel's Catch takes it.
    const broken = JSON.parse(JSON.stringify(definition)) as Definition;
    const branchEnd = statesOf(broken).find(([name]) => name === "captureEvidence: done")?.[1] as State;
    Object.assign(branchEnd, { Type: "Fail", Error: "ir.Broken", Cause: "a branch failed" });
    const { fake, log } = fakeResponder({});
    const run = await runLocally(broken, INPUT, fake);
    expect(run.status).to.equal("FAILED");
    const report = log.find((e) => e.step === REPORT);
    expect(report?.failure).to.deep.include({ Error: "ir.Broken" });
    expect(run.calls.some((c) => c.state === REPORT_AFTER_FAILURE)).to.equal(true);
  });
});
