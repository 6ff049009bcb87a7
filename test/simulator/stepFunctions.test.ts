// AWS Step Functions in the simulator, through the real SFN client: the API's answers and errors, executions run
// locally (Parallel, Choice, Wait, Task loops, Retry, Catch, timeouts), the state machine's role authorized on every
// integration call, API throttling and the history quota.
import * as sfn from "@aws-sdk/client-sfn";
import { expect } from "chai";
import { startSimulator, type Simulator, type StepFunctionsExecution } from "../../simulator";
import type { PolicyDocument } from "../../simulator/iam/authorizer";
import { eventually } from "./support";

const ACCOUNT = "111122223333";
const REGION = "eu-central-1";
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/ir-workflow`;
const ROLE_SESSION = `arn:aws:sts::${ACCOUNT}:assumed-role/ir-workflow/states-session`;
const functionArn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;

const policy = (...Statement: Record<string, unknown>[]): PolicyDocument => ({
  Version: "2012-10-17",
  Statement,
});

async function errorOf(
  promise: Promise<unknown>,
): Promise<{ name: string; status?: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    const e = error as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  throw new Error("expected the call to be refused");
}

const types = (execution: StepFunctionsExecution) => execution.history.map((event) => event.type);
const details = (execution: StepFunctionsExecution, type: string) =>
  execution.history
    .filter((event) => event.type === type)
    .map(
      (event) =>
        Object.entries(event).find(([key]) => key.endsWith("EventDetails"))?.[1] as Record<string, unknown>,
    );

/** A promise and the function that settles it: a Lambda target that answers when the test says so. */
function gate<T>(): { promise: Promise<T>; open(value: T): void } {
  let open = (_value: T): void => undefined;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

describe("simulator Step Functions (real SFN client)", function () {
  let sim: Simulator;
  let client: sfn.SFNClient;

  function clientAs(credentials: { accessKeyId: string; secretAccessKey: string }): sfn.SFNClient {
    return new sfn.SFNClient({ endpoint: sim.endpoint, region: REGION, credentials, maxAttempts: 1 });
  }

  async function start(options: Parameters<typeof startSimulator>[0] = {}): Promise<void> {
    sim = await startSimulator({ timeScale: 0, region: REGION, accountId: ACCOUNT, ...options });
    const env = sim.env();
    client = clientAs({
      accessKeyId: env.AWS_ACCESS_KEY_ID ?? "",
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? "",
    });
  }

  /** The state machine's role: may invoke the given functions (any version) and publish to any topic. */
  function registerRole(functions: string[] = ["step", "recorder", "flaky", "stuck"]): void {
    sim.iam.addPrincipal({
      name: "ir-workflow",
      arn: ROLE_SESSION,
      policies: [
        policy(
          {
            Effect: "Allow",
            Action: "lambda:InvokeFunction",
            Resource: functions.flatMap((name) => [functionArn(name), `${functionArn(name)}:*`]),
          },
          { Effect: "Allow", Action: "sns:Publish", Resource: `arn:aws:sns:${REGION}:${ACCOUNT}:*` },
        ),
      ],
    });
  }

  async function machine(
    name: string,
    definition: Record<string, unknown>,
    roleArn = ROLE_ARN,
  ): Promise<string> {
    const created = await client.send(
      new sfn.CreateStateMachineCommand({ name, definition: JSON.stringify(definition), roleArn }),
    );
    return created.stateMachineArn ?? "";
  }

  async function run(
    machineArn: string,
    input: unknown = {},
    name?: string,
  ): Promise<StepFunctionsExecution> {
    const started = await client.send(
      new sfn.StartExecutionCommand({ stateMachineArn: machineArn, input: JSON.stringify(input), name }),
    );
    return sim.stepFunctions.waitForExecution(started.executionArn ?? "");
  }

  const invoke = (functionName: string, extra: Record<string, unknown> = {}) => ({
    Type: "Task",
    Resource: "arn:aws:states:::lambda:invoke",
    Parameters: { FunctionName: functionName, "Payload.$": "$" },
    ...extra,
  });

  beforeEach(function () {
    if (process.env.SIM_EXTERNAL_ENDPOINT) this.skip();
  });
  afterEach(async () => sim?.stop());

  it("CreateStateMachine, StartExecution, DescribeExecution and a paginated GetExecutionHistory in AWS's shapes", async function () {
    await start();
    const definition = {
      StartAt: "Greet",
      States: {
        Greet: {
          Type: "Pass",
          Parameters: { "greeting.$": "States.Format('hello {}', $.who)" },
          Next: "Done",
        },
        Done: { Type: "Succeed" },
      },
    };
    const machineArn = await machine("greeter", definition);
    expect(machineArn).to.equal(`arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:greeter`);
    expect(await machine("greeter", definition), "same name and definition: the same machine").to.equal(
      machineArn,
    );
    const conflict = await errorOf(machine("greeter", { ...definition, Comment: "changed" }));
    expect(conflict).to.include({ name: "StateMachineAlreadyExists", status: 400 });
    expect(conflict.message).to.equal(`State Machine Already Exists: '${machineArn}'`);

    const described = await client.send(new sfn.DescribeStateMachineCommand({ stateMachineArn: machineArn }));
    expect(described).to.include({ name: "greeter", status: "ACTIVE", type: "STANDARD", roleArn: ROLE_ARN });
    expect(JSON.parse(described.definition ?? "")).to.deep.equal(definition);

    const t0 = sim.now();
    const started = await client.send(
      new sfn.StartExecutionCommand({ stateMachineArn: machineArn, name: "inc-1", input: '{"who":"world"}' }),
    );
    expect(started.executionArn).to.equal(`arn:aws:states:${REGION}:${ACCOUNT}:execution:greeter:inc-1`);
    expect(started.startDate?.getTime()).to.equal(t0);
    await sim.stepFunctions.waitForExecution(started.executionArn ?? "");

    const execution = await client.send(
      new sfn.DescribeExecutionCommand({ executionArn: started.executionArn }),
    );
    expect(execution).to.include({
      status: "SUCCEEDED",
      name: "inc-1",
      stateMachineArn: machineArn,
      input: '{"who":"world"}',
      output: '{"greeting":"hello world"}',
    });
    expect(execution.stopDate).to.be.instanceOf(Date);

    const pages: sfn.HistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await client.send(
        new sfn.GetExecutionHistoryCommand({ executionArn: started.executionArn, maxResults: 2, nextToken }),
      );
      expect(page.events?.length).to.be.at.most(2);
      pages.push(...(page.events ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    expect(pages.map((event) => event.type)).to.deep.equal([
      "ExecutionStarted",
      "PassStateEntered",
      "PassStateExited",
      "SucceedStateEntered",
      "SucceedStateExited",
      "ExecutionSucceeded",
    ]);
    expect(pages.map((event) => [event.id, event.previousEventId])).to.deep.equal([
      [1, 0],
      [2, 1],
      [3, 2],
      [4, 3],
      [5, 4],
      [6, 5],
    ]);
    expect(pages[0]?.timestamp).to.be.instanceOf(Date);
    expect(pages[0]?.executionStartedEventDetails).to.deep.include({
      input: '{"who":"world"}',
      roleArn: ROLE_ARN,
    });
    expect(pages[2]?.stateExitedEventDetails).to.deep.include({
      name: "Greet",
      output: '{"greeting":"hello world"}',
    });
    expect(pages[5]?.executionSucceededEventDetails?.output).to.equal('{"greeting":"hello world"}');

    const reversed = await client.send(
      new sfn.GetExecutionHistoryCommand({
        executionArn: started.executionArn,
        reverseOrder: true,
        includeExecutionData: false,
      }),
    );
    expect(reversed.events?.map((event) => event.id)).to.deep.equal([6, 5, 4, 3, 2, 1]);
    expect(reversed.events?.[0]?.executionSucceededEventDetails?.output, "no execution data").to.equal(
      undefined,
    );

    const listed = await client.send(
      new sfn.ListExecutionsCommand({ stateMachineArn: machineArn, statusFilter: "SUCCEEDED" }),
    );
    expect(listed.executions?.map((e) => e.name)).to.deep.equal(["inc-1"]);
    const unknown = await errorOf(
      client.send(new sfn.DescribeExecutionCommand({ executionArn: `${started.executionArn}-nope` })),
    );
    expect(unknown).to.include({
      name: "ExecutionDoesNotExist",
      message: `Execution Does Not Exist: '${started.executionArn}-nope'`,
    });
    expect(sim.stepFunctions.execution("inc-1")?.status).to.equal("SUCCEEDED");
  });

  it("runs Parallel, Choice, Wait (TimestampPath, milliseconds honoured on the wall clock) and a Task loop until the function answers done, then publishes to SNS", async function () {
    await start();
    registerRole();
    const topicArn = sim.scenario.topic("incidents");
    const calls: { at: number; payload: unknown }[] = [];
    // Waits twice, each time 150 ms ahead on the wall clock (the handler's clock), then answers done.
    sim.lambda.register("step", (payload) => {
      calls.push({ at: Date.now(), payload });
      return Promise.resolve(
        calls.length < 3
          ? { status: "waiting", until: new Date(Date.now() + 150).toISOString() }
          : { status: "done", outcome: "memory captured" },
      );
    });
    const definition = {
      StartAt: "Steps",
      States: {
        Steps: {
          Type: "Parallel",
          Branches: [
            {
              StartAt: "Capture",
              States: {
                Capture: invoke("step", { OutputPath: "$.Payload", Next: "Decide" }),
                Decide: {
                  Type: "Choice",
                  Choices: [
                    { Variable: "$.status", StringEquals: "done", Next: "Captured" },
                    { Variable: "$.status", StringEquals: "waiting", Next: "Later" },
                  ],
                },
                Later: { Type: "Wait", TimestampPath: "$.until", Next: "Capture" },
                Captured: { Type: "Succeed" },
              },
            },
            {
              StartAt: "Evidence",
              States: { Evidence: { Type: "Pass", Result: "evidence kept", End: true } },
            },
          ],
          ResultPath: "$.steps",
          Next: "Notify",
        },
        Notify: {
          Type: "Task",
          Resource: "arn:aws:states:::sns:publish",
          Parameters: { TopicArn: topicArn, Subject: "incident", "Message.$": "$.steps[0].outcome" },
          ResultPath: "$.notified",
          End: true,
        },
      },
    };
    const execution = await run(await machine("workflow", definition), { incidentId: "inc-7" });
    expect(execution.status, execution.cause).to.equal("SUCCEEDED");

    expect(calls).to.have.length(3);
    // Each pass comes no earlier than the time the previous one asked for, to the millisecond.
    const asked = details(execution, "TaskSucceeded")
      .slice(0, 3)
      .map((d) => (JSON.parse(String(d.output)) as { Payload: { until?: string } }).Payload.until);
    expect(asked.slice(0, 2).every((until) => typeof until === "string" && /\.\d{3}Z$/.test(until))).to.equal(
      true,
    );
    expect(calls[1]?.at).to.be.at.least(Date.parse(asked[0] ?? ""));
    expect(calls[2]?.at).to.be.at.least(Date.parse(asked[1] ?? ""));
    expect(calls[0]?.payload, "the Task's Payload.$ is the branch's input").to.deep.equal({
      incidentId: "inc-7",
    });

    const output = JSON.parse(execution.output ?? "") as {
      steps: unknown[];
      notified: { MessageId: string };
    };
    expect(output.steps).to.deep.equal([{ status: "done", outcome: "memory captured" }, "evidence kept"]);
    const messages = sim.state.messages(topicArn);
    expect(messages.map((m) => [m.subject, m.message])).to.deep.equal([["incident", "memory captured"]]);
    expect(output.notified.MessageId).to.equal(messages[0]?.messageId);

    const seen = types(execution);
    for (const type of [
      "ParallelStateEntered",
      "ParallelStateStarted",
      "ParallelStateSucceeded",
      "ParallelStateExited",
      "ChoiceStateEntered",
      "ChoiceStateExited",
      "WaitStateEntered",
      "WaitStateExited",
      "TaskStateEntered",
      "TaskScheduled",
      "TaskStarted",
      "TaskSucceeded",
      "TaskStateExited",
    ]) {
      expect(seen, type).to.include(type);
    }
    expect(seen.filter((type) => type === "WaitStateEntered")).to.have.length(2);
    expect(seen.indexOf("ParallelStateSucceeded"), "after the branches").to.be.greaterThan(
      seen.indexOf("PassStateExited"),
    );
    expect(seen.at(-1)).to.equal("ExecutionSucceeded");
    const invokes = details(execution, "TaskSucceeded").slice(0, 3);
    for (const detail of invokes) {
      expect(detail).to.include({ resourceType: "lambda", resource: "invoke" });
      const result = JSON.parse(String(detail.output)) as Record<string, unknown>;
      expect(result).to.include({ ExecutedVersion: "$LATEST", StatusCode: 200 });
      expect(result).to.have.keys(
        "ExecutedVersion",
        "Payload",
        "SdkHttpMetadata",
        "SdkResponseMetadata",
        "StatusCode",
      );
    }
    expect(details(execution, "TaskScheduled")[0]).to.include({
      resourceType: "lambda",
      resource: "invoke",
      region: REGION,
    });
    expect(JSON.parse(String(details(execution, "TaskScheduled")[0]?.parameters))).to.deep.equal({
      FunctionName: "step",
      Payload: { incidentId: "inc-7" },
    });
    expect(details(execution, "TaskScheduled").at(-1)).to.include({
      resourceType: "sns",
      resource: "publish",
    });
    // Ids run 1..n; a branch's first event follows ParallelStateStarted.
    expect(execution.history.map((event) => event.id)).to.deep.equal(execution.history.map((_, i) => i + 1));
    const parallelStarted = execution.history.find((event) => event.type === "ParallelStateStarted")?.id;
    const branchStarts = execution.history.filter(
      (event) => event.type.endsWith("StateEntered") && event.previousEventId === parallelStarted,
    );
    expect(branchStarts.map((event) => event.type).sort()).to.deep.equal([
      "PassStateEntered",
      "TaskStateEntered",
    ]);
  });

  it("Retry: a function that throws twice then succeeds; the history shows both failures and each pause on the simulator's clock", async function () {
    await start();
    registerRole();
    let attempts = 0;
    sim.lambda.register("flaky", () => {
      attempts += 1;
      return attempts <= 2
        ? Promise.reject(new Error(`flaky ${attempts}`))
        : Promise.resolve({ ok: attempts });
    });
    const t0 = sim.now();
    const execution = await run(
      await machine("retrying", {
        StartAt: "Flaky",
        States: {
          Flaky: invoke("flaky", {
            Retry: [
              { ErrorEquals: ["TypeError"], MaxAttempts: 0 },
              { ErrorEquals: ["States.ALL"], IntervalSeconds: 3, BackoffRate: 2, MaxAttempts: 3 },
            ],
            OutputPath: "$.Payload",
            End: true,
          }),
        },
      }),
    );
    expect(execution.status).to.equal("SUCCEEDED");
    expect(execution.output).to.equal('{"ok":3}');
    expect(types(execution)).to.deep.equal([
      "ExecutionStarted",
      "TaskStateEntered",
      "TaskScheduled",
      "TaskStarted",
      "TaskFailed",
      "TaskScheduled",
      "TaskStarted",
      "TaskFailed",
      "TaskScheduled",
      "TaskStarted",
      "TaskSucceeded",
      "TaskStateExited",
      "ExecutionSucceeded",
    ]);
    const failures = details(execution, "TaskFailed");
    expect(failures.map((failure) => failure.error)).to.deep.equal(["Error", "Error"]);
    const cause = JSON.parse(String(failures[0]?.cause)) as Record<string, unknown>;
    expect(cause).to.include({ errorType: "Error", errorMessage: "flaky 1" });
    // IntervalSeconds 3, then 3 x BackoffRate 2: the retries are scheduled 3 s and 6 s after the failures.
    const at = (type: string, n: number) =>
      execution.history.filter((event) => event.type === type)[n]?.timestamp ?? NaN;
    expect(at("TaskScheduled", 1) - at("TaskFailed", 0)).to.equal(3000);
    expect(at("TaskScheduled", 2) - at("TaskFailed", 1)).to.equal(6000);
    expect(execution.stopDate ?? 0).to.equal(t0 + 9000);
  });

  it("Catch: a function error goes to a recorder state with Error = errorType and Cause = Lambda's error payload", async function () {
    await start();
    registerRole();
    sim.lambda.register("flaky", () => Promise.reject(new TypeError("bad input")));
    const recorded: unknown[] = [];
    sim.lambda.register("recorder", (payload) => {
      recorded.push(payload);
      return Promise.resolve({ recorded: true });
    });
    const execution = await run(
      await machine("catching", {
        StartAt: "Step",
        States: {
          Step: invoke("flaky", {
            Catch: [{ ErrorEquals: ["States.TaskFailed"], ResultPath: "$.failure", Next: "Record" }],
            Next: "Unreached",
          }),
          Unreached: { Type: "Fail", Error: "Unreached" },
          Record: invoke("recorder", { OutputPath: "$.Payload", End: true }),
        },
      }),
      { incidentId: "inc-9" },
    );
    expect(execution.status).to.equal("SUCCEEDED");
    expect(recorded).to.have.length(1);
    const { failure } = recorded[0] as { failure: { Error: string; Cause: string } };
    expect(failure.Error).to.equal("TypeError");
    expect(JSON.parse(failure.Cause)).to.include({ errorType: "TypeError", errorMessage: "bad input" });
    expect((recorded[0] as { incidentId: string }).incidentId).to.equal("inc-9");
    // A caught failure leaves its state without TaskStateExited: the catcher's Next is entered.
    const seen = types(execution);
    expect(seen.slice(seen.indexOf("TaskFailed"), seen.indexOf("TaskFailed") + 2)).to.deep.equal([
      "TaskFailed",
      "TaskStateEntered",
    ]);
    expect(details(execution, "TaskStateEntered").map((d) => d.name)).to.deep.equal(["Step", "Record"]);
  });

  it("a target that never answers within TimeoutSeconds fails the Task with States.Timeout, which States.TaskFailed does not catch", async function () {
    await start();
    registerRole();
    const never = gate<unknown>();
    sim.lambda.register("stuck", () => never.promise);
    const started = await client.send(
      new sfn.StartExecutionCommand({
        stateMachineArn: await machine("timing-out", {
          StartAt: "Stuck",
          States: {
            Stuck: invoke("stuck", {
              TimeoutSeconds: 30,
              Catch: [
                { ErrorEquals: ["States.TaskFailed"], Next: "Failed" },
                { ErrorEquals: ["States.Timeout"], ResultPath: "$.timeout", Next: "TimedOut" },
              ],
              End: true,
            }),
            Failed: { Type: "Fail", Error: "WrongCatcher" },
            TimedOut: { Type: "Pass", End: true },
          },
        }),
      }),
    );
    const arn = started.executionArn ?? "";
    await eventually(() =>
      types(sim.stepFunctions.execution(arn) as StepFunctionsExecution).includes("TaskStarted"),
    );
    sim.advance(29_000);
    await new Promise((resolve) => setImmediate(resolve));
    expect(
      sim.stepFunctions.execution(arn)?.status,
      "not yet: the deadline is on the simulator's clock",
    ).to.equal("RUNNING");
    sim.advance(1_000);
    const execution = await sim.stepFunctions.waitForExecution(arn);
    expect(execution.status).to.equal("SUCCEEDED");
    expect(JSON.parse(execution.output ?? "")).to.deep.equal({
      timeout: { Error: "States.Timeout", Cause: "States.Timeout" },
    });
    expect(details(execution, "TaskTimedOut")).to.deep.equal([
      { resourceType: "lambda", resource: "invoke", error: "States.Timeout" },
    ]);
    expect(details(execution, "TaskScheduled")[0]).to.include({ timeoutInSeconds: 30 });
    never.open({});
  });

  it("the machine's TimeoutSeconds is a deadline on the simulator's clock: TIMED_OUT, the running Task aborted", async function () {
    await start();
    registerRole();
    const hold = gate<unknown>();
    sim.lambda.register("stuck", () => hold.promise);
    const started = await client.send(
      new sfn.StartExecutionCommand({
        stateMachineArn: await machine("bounded", {
          TimeoutSeconds: 60,
          StartAt: "Hold",
          States: { Hold: invoke("stuck", { End: true }) },
        }),
      }),
    );
    const arn = started.executionArn ?? "";
    await eventually(() =>
      types(sim.stepFunctions.execution(arn) as StepFunctionsExecution).includes("TaskStarted"),
    );
    sim.advance(59_999);
    await new Promise((resolve) => setImmediate(resolve));
    expect(sim.stepFunctions.execution(arn)?.status).to.equal("RUNNING");
    sim.advance(1);
    const execution = await sim.stepFunctions.waitForExecution(arn);
    expect(execution).to.include({ status: "TIMED_OUT", error: "States.Timeout" });
    expect(execution.stopDate).to.equal(execution.startDate + 60_000);
    expect(types(execution).slice(-2)).to.deep.equal(["TaskStateAborted", "ExecutionTimedOut"]);
    hold.open({});
  });

  it("Lambda's own refusals: a 500 is Lambda.ServiceException, throttling Lambda.TooManyRequestsException, both retried as AWS recommends", async function () {
    await start();
    registerRole();
    sim.lambda.register("step", () => Promise.resolve({ ok: true }));
    sim.faults.add({
      service: "lambda",
      action: "Invoke",
      fault: {
        type: "error",
        code: "ServiceException",
        message: "Lambda was unable to run",
        httpStatus: 500,
      },
      count: 1,
    });
    sim.faults.add({ service: "lambda", action: "Invoke", fault: { type: "throttle" }, count: 1 });
    const execution = await run(
      await machine("transient", {
        StartAt: "Call",
        States: {
          Call: invoke("step", {
            Retry: [
              {
                ErrorEquals: [
                  "Lambda.ServiceException",
                  "Lambda.AWSLambdaException",
                  "Lambda.SdkClientException",
                  "Lambda.TooManyRequestsException",
                ],
                IntervalSeconds: 1,
                MaxAttempts: 3,
                BackoffRate: 2,
              },
            ],
            OutputPath: "$.Payload",
            End: true,
          }),
        },
      }),
    );
    expect(execution.status).to.equal("SUCCEEDED");
    const failures = details(execution, "TaskFailed");
    expect(failures.map((failure) => failure.error)).to.deep.equal([
      "Lambda.ServiceException",
      "Lambda.TooManyRequestsException",
    ]);
    expect(String(failures[0]?.cause)).to.match(
      /^Lambda was unable to run \(Service: AWSLambda; Status Code: 500; Error Code: ServiceException; Request ID: [0-9a-f-]+; Proxy: null\)$/,
    );
    expect(String(failures[1]?.cause)).to.include("Status Code: 429; Error Code: TooManyRequestsException");
    expect(sim.calls.filter((call) => call.service === "lambda").map((call) => call.status)).to.deep.equal([
      500, 429, 200,
    ]);
  });

  it("Map: each item through the iterator's Task, the results in order, iteration events in the history", async function () {
    await start();
    registerRole();
    sim.lambda.register("step", (payload) =>
      Promise.resolve({ doubled: (payload as { value: number }).value * 2 }),
    );
    const execution = await run(
      await machine("mapping", {
        StartAt: "Each",
        States: {
          Each: {
            Type: "Map",
            ItemsPath: "$.volumes",
            ItemSelector: { "value.$": "$$.Map.Item.Value" },
            ItemProcessor: {
              ProcessorConfig: { Mode: "INLINE" },
              StartAt: "Double",
              States: { Double: invoke("step", { OutputPath: "$.Payload.doubled", End: true }) },
            },
            End: true,
          },
        },
      }),
      { volumes: [1, 2, 3] },
    );
    expect(execution.status, execution.cause).to.equal("SUCCEEDED");
    expect(execution.output).to.equal("[2,4,6]");
    expect(types(execution).filter((type) => type.startsWith("Map"))).to.deep.equal([
      "MapStateEntered",
      "MapStateStarted",
      "MapIterationStarted",
      "MapIterationStarted",
      "MapIterationStarted",
      "MapIterationSucceeded",
      "MapIterationSucceeded",
      "MapIterationSucceeded",
      "MapStateSucceeded",
      "MapStateExited",
    ]);
    expect(details(execution, "MapIterationStarted").map((d) => d.index)).to.deep.equal([0, 1, 2]);
    expect(types(execution).filter((type) => type === "TaskSucceeded")).to.have.length(3);
  });

  it("StartExecution: same name and input while running answers the original; after it closed, or with another input, ExecutionAlreadyExists", async function () {
    await start();
    registerRole();
    const release = gate<unknown>();
    sim.lambda.register("stuck", () => release.promise);
    const machineArn = await machine("held", {
      StartAt: "Hold",
      States: { Hold: invoke("stuck", { End: true }) },
    });
    const first = await client.send(
      new sfn.StartExecutionCommand({ stateMachineArn: machineArn, name: "inc-1", input: '{"n":1}' }),
    );
    sim.advance(5_000);
    const again = await client.send(
      new sfn.StartExecutionCommand({ stateMachineArn: machineArn, name: "inc-1", input: '{"n":1}' }),
    );
    expect(again.executionArn).to.equal(first.executionArn);
    expect(again.startDate?.getTime(), "the original answer").to.equal(first.startDate?.getTime());
    expect(sim.stepFunctions.executions).to.have.length(1);

    const other = await errorOf(
      client.send(
        new sfn.StartExecutionCommand({ stateMachineArn: machineArn, name: "inc-1", input: '{"n":2}' }),
      ),
    );
    expect(other).to.deep.equal({
      name: "ExecutionAlreadyExists",
      status: 400,
      message: `Execution Already Exists: '${first.executionArn}'`,
    });

    release.open({ done: true });
    expect((await sim.stepFunctions.waitForExecution(first.executionArn ?? "")).status).to.equal("SUCCEEDED");
    const closed = await errorOf(
      client.send(
        new sfn.StartExecutionCommand({ stateMachineArn: machineArn, name: "inc-1", input: '{"n":1}' }),
      ),
    );
    expect(closed.name).to.equal("ExecutionAlreadyExists");

    const unnamed = await client.send(new sfn.StartExecutionCommand({ stateMachineArn: machineArn }));
    expect(unnamed.executionArn).to.match(
      /:execution:held:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(sim.stepFunctions.execution(unnamed.executionArn ?? "")?.input, "no input is {}").to.equal("{}");

    const badName = await errorOf(
      client.send(new sfn.StartExecutionCommand({ stateMachineArn: machineArn, name: "inc 2" })),
    );
    expect(badName).to.include({ name: "InvalidName", message: "Invalid Name: 'inc 2'" });
    const longName = await errorOf(
      client.send(new sfn.StartExecutionCommand({ stateMachineArn: machineArn, name: "x".repeat(81) })),
    );
    expect(longName.name).to.equal("ValidationException");
    expect(longName.message).to.include("Member must have length less than or equal to 80");
    const okName = await client.send(
      new sfn.StartExecutionCommand({ stateMachineArn: machineArn, name: `${"a".repeat(78)}-_` }),
    );
    expect(okName.executionArn).to.match(/:a{78}-_$/);
    const badInput = await errorOf(
      client.send(
        new sfn.StartExecutionCommand({ stateMachineArn: machineArn, name: "inc-3", input: "{nope" }),
      ),
    );
    expect(badInput.name).to.equal("InvalidExecutionInput");
    expect(badInput.message).to.match(/^Invalid State Machine Execution Input: '/);
    const tooBig = await errorOf(
      client.send(
        new sfn.StartExecutionCommand({
          stateMachineArn: machineArn,
          name: "inc-4",
          input: JSON.stringify({ blob: "x".repeat(262_144) }),
        }),
      ),
    );
    expect(tooBig.name).to.equal("ValidationException");
    const missing = await errorOf(
      client.send(new sfn.StartExecutionCommand({ stateMachineArn: `${machineArn}-gone` })),
    );
    expect(missing).to.include({
      name: "StateMachineDoesNotExist",
      message: `State Machine Does Not Exist: '${machineArn}-gone'`,
    });
  });

  it("StopExecution aborts the run: ABORTED with the given error and cause, the running Task aborted in the history", async function () {
    await start();
    registerRole();
    const hold = gate<unknown>();
    sim.lambda.register("stuck", () => hold.promise);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const machineArn = await machine("stoppable", {
        StartAt: "Hold",
        States: { Hold: invoke("stuck", { End: true }) },
      });
      const started = await client.send(
        new sfn.StartExecutionCommand({ stateMachineArn: machineArn, name: "inc-1" }),
      );
      const arn = started.executionArn ?? "";
      await eventually(() =>
        types(sim.stepFunctions.execution(arn) as StepFunctionsExecution).includes("TaskStarted"),
      );
      sim.advance(2_000);
      const stopped = await client.send(
        new sfn.StopExecutionCommand({ executionArn: arn, error: "Operator.Stop", cause: "false positive" }),
      );
      expect(stopped.stopDate?.getTime()).to.equal(sim.now());
      const described = await client.send(new sfn.DescribeExecutionCommand({ executionArn: arn }));
      expect(described).to.include({ status: "ABORTED", error: "Operator.Stop", cause: "false positive" });
      const execution = await sim.stepFunctions.waitForExecution(arn);
      expect(types(execution).slice(-2)).to.deep.equal(["TaskStateAborted", "ExecutionAborted"]);
      expect(details(execution, "ExecutionAborted")).to.deep.equal([
        { error: "Operator.Stop", cause: "false positive" },
      ]);
      const listed = await client.send(
        new sfn.ListExecutionsCommand({ stateMachineArn: machineArn, statusFilter: "ABORTED" }),
      );
      expect(listed.executions?.map((e) => e.executionArn)).to.deep.equal([arn]);
      hold.open({ late: true });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(sim.stepFunctions.execution(arn)?.status, "a late answer changes nothing").to.equal("ABORTED");
      expect(sim.stepFunctions.execution(arn)?.history.length).to.equal(execution.history.length);
      expect(unhandled).to.deep.equal([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  it("a Task whose role may not invoke the function fails with Lambda.AWSLambdaException, counted as a denial; SNS likewise; an unregistered role is denied", async function () {
    await start();
    // May invoke only the unqualified `step`: a version is another resource.
    sim.iam.addPrincipal({
      name: "ir-workflow",
      arn: ROLE_SESSION,
      policies: [policy({ Effect: "Allow", Action: "lambda:InvokeFunction", Resource: functionArn("step") })],
    });
    const invoked: unknown[] = [];
    sim.lambda.register("step", (payload) => {
      invoked.push(payload);
      return Promise.resolve({ ok: true });
    });
    const topicArn = sim.scenario.topic("incidents");
    const deniedBefore = sim.iam.stats.denied;
    const execution = await run(
      await machine("denied", {
        StartAt: "Allowed",
        States: {
          Allowed: invoke("step", { ResultPath: null, Next: "Version" }),
          Version: invoke(`${functionArn("step")}:7`, {
            ResultPath: "$.denied",
            Catch: [{ ErrorEquals: ["Lambda.AWSLambdaException"], ResultPath: "$.lambda", Next: "Publish" }],
            End: true,
          }),
          Publish: {
            Type: "Task",
            Resource: "arn:aws:states:::sns:publish",
            Parameters: { TopicArn: topicArn, Message: "hello" },
            End: true,
          },
        },
      }),
    );
    expect(
      invoked,
      "the allowed call ran; the version was refused before reaching the function",
    ).to.have.length(1);
    expect(execution.status).to.equal("FAILED");
    expect(execution.error).to.equal("SNS.AuthorizationErrorException");
    expect(execution.cause).to.match(
      /^User: arn:aws:sts::111122223333:assumed-role\/ir-workflow\/states-session is not authorized to perform: sns:Publish on resource: arn:aws:sns:eu-central-1:111122223333:incidents .*\(Service: AmazonSNS; Status Code: 403; Error Code: AuthorizationError; Request ID: [0-9a-f-]+; Proxy: null\)$/,
    );
    const lambdaFailure = details(execution, "TaskFailed")[0];
    expect(lambdaFailure?.error).to.equal("Lambda.AWSLambdaException");
    expect(String(lambdaFailure?.cause)).to.match(
      /^User: arn:aws:sts::111122223333:assumed-role\/ir-workflow\/states-session is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:eu-central-1:111122223333:function:step:7 because no identity-based policy allows the lambda:InvokeFunction action \(Service: AWSLambda; Status Code: 403; Error Code: AccessDeniedException; Request ID: [0-9a-f-]+; Proxy: null\)$/,
    );
    expect(sim.iam.stats.denied - deniedBefore).to.equal(2);
    expect(sim.iam.stats.denials.map((d) => [d.principal, d.check.action, d.check.resource])).to.deep.equal([
      [ROLE_SESSION, "lambda:InvokeFunction", `${functionArn("step")}:7`],
      [ROLE_SESSION, "sns:Publish", topicArn],
    ]);
    expect(sim.state.messages(topicArn)).to.deep.equal([]);

    // A role no principal was registered for: AWS would deny every call of a role without a policy.
    const orphan = await run(
      await machine(
        "orphan",
        { StartAt: "Call", States: { Call: invoke("step", { End: true }) } },
        `arn:aws:iam::${ACCOUNT}:role/service-role/nobody`,
      ),
    );
    expect(orphan.status).to.equal("FAILED");
    expect(orphan.error).to.equal("Lambda.AWSLambdaException");
    expect(orphan.cause).to.match(
      /^User: arn:aws:sts::111122223333:assumed-role\/nobody\/[0-9a-f]{32} is not authorized/,
    );
    expect(invoked).to.have.length(1);
    expect(sim.iam.stats.denied - deniedBefore).to.equal(3);
  });

  it("a role registered by roleArn invokes a qualified function: ExecutedVersion and the qualified ARN authorized", async function () {
    await start();
    sim.iam.addPrincipal({
      name: "versions",
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/versions/anything`,
      roleArn: `arn:aws:iam::${ACCOUNT}:role/path/versions`,
      policies: [
        policy({ Effect: "Allow", Action: "lambda:InvokeFunction", Resource: `${functionArn("step")}:7` }),
      ],
    });
    sim.lambda.register("step", () => Promise.resolve("plain text"));
    const execution = await run(
      await machine(
        "qualified",
        { StartAt: "Call", States: { Call: invoke(`${functionArn("step")}:7`, { End: true }) } },
        `arn:aws:iam::${ACCOUNT}:role/path/versions`,
      ),
    );
    expect(execution.status, execution.cause).to.equal("SUCCEEDED");
    expect(JSON.parse(execution.output ?? "")).to.include({
      ExecutedVersion: "7",
      Payload: "plain text",
      StatusCode: 200,
    });
    expect(sim.state.invocations().map((i) => [i.functionName, i.qualifier])).to.deep.equal([["step", "7"]]);
  });

  it("the API itself is authorized: StartExecution without states:StartExecution is AccessDeniedException; CreateStateMachine needs iam:PassRole", async function () {
    await start();
    const machineArn = await machine("guarded", { StartAt: "Done", States: { Done: { Type: "Succeed" } } });
    const operator = clientAs(
      sim.iam.addPrincipal({
        name: "operator",
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/operator/alice`,
        policies: [
          policy(
            {
              Effect: "Allow",
              Action: ["states:DescribeStateMachine", "states:CreateStateMachine"],
              Resource: "*",
            },
            { Effect: "Allow", Action: "states:StartExecution", Resource: `${machineArn}-other` },
          ),
        ],
      }),
    );
    await operator.send(new sfn.DescribeStateMachineCommand({ stateMachineArn: machineArn }));
    const refused = await errorOf(
      operator.send(new sfn.StartExecutionCommand({ stateMachineArn: machineArn })),
    );
    expect(refused).to.deep.equal({
      name: "AccessDeniedException",
      status: 400,
      message: `User: arn:aws:sts::${ACCOUNT}:assumed-role/operator/alice is not authorized to perform: states:StartExecution on resource: ${machineArn} because no identity-based policy allows the states:StartExecution action`,
    });
    expect(sim.stepFunctions.executions).to.have.length(0);
    const passRole = await errorOf(
      operator.send(
        new sfn.CreateStateMachineCommand({
          name: "other",
          definition: JSON.stringify({ StartAt: "Done", States: { Done: { Type: "Succeed" } } }),
          roleArn: ROLE_ARN,
        }),
      ),
    );
    expect(passRole.name).to.equal("AccessDeniedException");
    expect(passRole.message).to.include(`iam:PassRole on resource: ${ROLE_ARN}`);
    expect(sim.iam.stats.denials.map((d) => d.check.context["iam:PassedToService"])).to.deep.equal([
      undefined,
      "states.amazonaws.com",
    ]);
    const stranger = clientAs({ accessKeyId: "AKIAUNKNOWNKEY000000", secretAccessKey: "x" });
    expect((await errorOf(stranger.send(new sfn.ListStateMachinesCommand({})))).name).to.equal(
      "UnrecognizedClientException",
    );
  });

  it("an invalid definition is InvalidDefinition with the validator's codes; what the simulator cannot run is refused by name", async function () {
    await start();
    const refused = await errorOf(
      machine("broken", { StartAt: "A", States: { A: { Type: "Pass", Next: "Nowhere" } } }),
    );
    expect(refused.name).to.equal("InvalidDefinition");
    expect(refused.message).to.match(/^Invalid State Machine Definition: '.*MISSING_TRANSITION_TARGET/);
    const notJson = await errorOf(
      client.send(new sfn.CreateStateMachineCommand({ name: "x", definition: "{", roleArn: ROLE_ARN })),
    );
    expect(notJson.name).to.equal("InvalidDefinition");
    expect(notJson.message).to.include("INVALID_JSON_DESCRIPTION");
    const unsupported = await errorOf(
      machine("ecs", {
        StartAt: "Run",
        States: { Run: { Type: "Task", Resource: "arn:aws:states:::ecs:runTask.sync", End: true } },
      }),
    );
    expect(unsupported.name).to.equal("InvalidDefinition");
    expect(unsupported.message).to.include("SIMULATOR_UNSUPPORTED");
    const badRole = await errorOf(
      client.send(
        new sfn.CreateStateMachineCommand({
          name: "x",
          definition: JSON.stringify({ StartAt: "A", States: { A: { Type: "Succeed" } } }),
          roleArn: "arn:aws:iam::111122223333:user/alice",
        }),
      ),
    );
    expect(badRole.name).to.equal("InvalidArn");
    expect(sim.stepFunctions.executions).to.have.length(0);
  });

  it('reads the States Language as AWS does where the library does not: ResultPath "$" replaces the input, a Pass Result of 0 is 0', async function () {
    await start();
    registerRole();
    sim.lambda.register("flaky", () => Promise.reject(new RangeError("out of range")));
    const execution = await run(
      await machine("paths", {
        StartAt: "Zero",
        States: {
          Zero: { Type: "Pass", Result: 0, ResultPath: "$.zero", Next: "Whole" },
          Whole: { Type: "Pass", Result: { replaced: true }, ResultPath: "$", Next: "Call" },
          Call: invoke("flaky", {
            Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$", Next: "Caught" }],
            End: true,
          }),
          Caught: { Type: "Pass", End: true },
        },
      }),
      { a: 1 },
    );
    const exits = details(execution, "PassStateExited").map((d) => JSON.parse(String(d.output)) as unknown);
    expect(exits[0]).to.deep.equal({ a: 1, zero: 0 });
    expect(exits[1]).to.deep.equal({ replaced: true });
    expect(Object.keys(JSON.parse(execution.output ?? "{}") as object)).to.deep.equal(["Error", "Cause"]);
    expect(JSON.parse(execution.output ?? "{}")).to.include({ Error: "RangeError" });
  });

  it("UpdateStateMachine changes what new executions run; DeleteStateMachine refuses new ones", async function () {
    await start();
    const machineArn = await machine("versioned", {
      StartAt: "A",
      States: { A: { Type: "Pass", Result: 1, End: true } },
    });
    expect((await run(machineArn)).output).to.equal("1");
    await client.send(
      new sfn.UpdateStateMachineCommand({
        stateMachineArn: machineArn,
        definition: JSON.stringify({ StartAt: "A", States: { A: { Type: "Pass", Result: 2, End: true } } }),
      }),
    );
    expect((await run(machineArn)).output).to.equal("2");
    await client.send(new sfn.DeleteStateMachineCommand({ stateMachineArn: machineArn }));
    expect(
      (await errorOf(client.send(new sfn.StartExecutionCommand({ stateMachineArn: machineArn })))).name,
    ).to.equal("StateMachineDoesNotExist");
  });

  it("StartExecution is throttled with Step Functions' documented bucket: 800 tokens, 150 a second outside the three largest Regions", async function () {
    this.timeout(120_000);
    await start();
    const machineArn = await machine("burst", { StartAt: "Done", States: { Done: { Type: "Succeed" } } });
    const startOne = () => client.send(new sfn.StartExecutionCommand({ stateMachineArn: machineArn }));
    for (let i = 0; i < 800; i++) await startOne();
    const throttled = await errorOf(startOne());
    expect(throttled).to.deep.equal({ name: "ThrottlingException", status: 400, message: "Rate exceeded" });
    sim.advance(1_000);
    for (let i = 0; i < 150; i++) await startOne();
    expect((await errorOf(startOne())).name).to.equal("ThrottlingException");
    await sim.stepFunctions.settled();
    expect(sim.stepFunctions.executions).to.have.length(950);
    expect(sim.stepFunctions.executions.every((e) => e.status === "SUCCEEDED")).to.equal(true);
  });

  it("the history quota: the 25,000th event is ExecutionFailed with States.Runtime", async function () {
    this.timeout(120_000);
    await start();
    const execution = await run(
      await machine("spinning", {
        StartAt: "Spin",
        States: {
          Spin: { Type: "Pass", Next: "Again" },
          Again: {
            Type: "Choice",
            Choices: [{ Variable: "$.stop", IsPresent: true, Next: "Done" }],
            Default: "Spin",
          },
          Done: { Type: "Succeed" },
        },
      }),
    );
    expect(execution.status).to.equal("FAILED");
    expect(execution.error).to.equal("States.Runtime");
    expect(execution.cause).to.equal("The execution reached the maximum number of history events (25000).");
    expect(execution.history).to.have.length(25_000);
    const last = execution.history[24_999];
    expect(last).to.deep.include({
      id: 25_000,
      previousEventId: 24_999,
      type: "ExecutionFailed",
      executionFailedEventDetails: {
        error: "States.Runtime",
        cause: "The execution reached the maximum number of history events (25000).",
      },
    });
    expect(execution.history[24_998]?.type).to.match(/^(Pass|Choice)State(Entered|Exited)$/);
  });

  it("stop() aborts running executions: no timer is left behind and nothing is rejected unhandled", async function () {
    const timers = () => process.getActiveResourcesInfo().filter((resource) => resource === "Timeout").length;
    // Counted once mocha has armed this test's own timeout timer.
    await new Promise((resolve) => setImmediate(resolve));
    const before = timers();
    await start({ timeScale: 1 });
    registerRole();
    sim.lambda.register("stuck", () => new Promise(() => undefined));
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const machineArn = await machine("long", {
        StartAt: "Branches",
        States: {
          Branches: {
            Type: "Parallel",
            Branches: [
              { StartAt: "Hour", States: { Hour: { Type: "Wait", Seconds: 3600, End: true } } },
              { StartAt: "Later", States: { Later: { Type: "Wait", TimestampPath: "$.until", End: true } } },
              { StartAt: "Stuck", States: { Stuck: invoke("stuck", { TimeoutSeconds: 3600, End: true }) } },
            ],
            End: true,
          },
        },
      });
      const arns: string[] = [];
      for (const name of ["a", "b"]) {
        const started = await client.send(
          new sfn.StartExecutionCommand({
            stateMachineArn: machineArn,
            name,
            input: JSON.stringify({ until: new Date(Date.now() + 3_600_000).toISOString() }),
          }),
        );
        arns.push(started.executionArn ?? "");
      }
      await eventually(() =>
        arns.every((arn) =>
          types(sim.stepFunctions.execution(arn) as StepFunctionsExecution).includes("TaskStarted"),
        ),
      );
      const view = sim.stepFunctions;
      await sim.stop();
      expect(view.executions.map((e) => e.status)).to.deep.equal(["ABORTED", "ABORTED"]);
      expect(types(view.executions[0] as StepFunctionsExecution).at(-1)).to.equal("ExecutionAborted");
      expect(
        types(view.executions[0] as StepFunctionsExecution)
          .filter((t) => t.endsWith("StateAborted"))
          .sort(),
      ).to.deep.equal(["ParallelStateAborted", "TaskStateAborted", "WaitStateAborted", "WaitStateAborted"]);
      // Node's HTTP server caches its Date header for up to a second with an unref'd timer of its own.
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      expect(timers(), "timers left").to.be.at.most(before);
      expect(unhandled).to.deep.equal([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});
