// Runs a generated definition with aws-local-stepfunctions (MIT), its Tasks answered by test functions instead of
// Lambda and SNS, its Waits and retry intervals zeroed: the workflow's control flow, checked without AWS.
import { StateMachine } from "aws-local-stepfunctions";
import "../../simulator/stepFunctions/promiseWithResolvers";
import {
  LAMBDA_INVOKE,
  SNS_PUBLISH,
  type Branch,
  type Definition,
  type State,
} from "../../infra/stateLanguage";

/** What a Task state was asked: the Lambda payload or the SNS message, as the state's Parameters made them. */
export interface TaskCall {
  state: string;
  resource: string;
  input: Record<string, unknown>;
}

type LibraryRun = ReturnType<StateMachine["run"]>;
/** An event of the library's log (its type is not exported). */
type EventLog = LibraryRun["eventLogs"] extends AsyncGenerator<infer E> ? E : never;

/** A fake Lambda or SNS: the Task's result, or a thrown error (its name is the error Step Functions sees). */
export type FakeTask = (call: TaskCall) => unknown;

export interface LocalRun {
  status: "SUCCEEDED" | "FAILED";
  error?: string;
  calls: TaskCall[];
  events: EventLog[];
  /**
   * States entered plus retries: what Step Functions bills as state transitions. Whole only for a definition without
   * Parallel states: the library forwards a branch's events to its parent's log asynchronously, and drops those that
   * arrive after the parent branch ended.
   */
  transitions: number;
}

function statesOf(branch: Branch): [string, State][] {
  return Object.entries(branch.States).flatMap(([name, state]) => [
    [name, state] as [string, State],
    ...(state.Branches ?? []).flatMap(statesOf),
  ]);
}

/** An error Step Functions would see under the given name. */
export function taskError(name: string, message = name): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

export async function runLocally(
  definition: Definition,
  input: Record<string, unknown>,
  fake: FakeTask,
): Promise<LocalRun> {
  const calls: TaskCall[] = [];
  const states = statesOf(definition);
  const handlers = Object.fromEntries(
    states
      .filter(([, state]) => state.Type === "Task")
      .map(([name, state]) => [
        name,
        (taskInput: unknown) => {
          const call = {
            state: name,
            resource: state.Resource ?? "",
            input: taskInput as Record<string, unknown>,
          };
          calls.push(call);
          const result = fake(call);
          if (state.Resource === LAMBDA_INVOKE)
            return { StatusCode: 200, ExecutedVersion: "1", Payload: result };
          if (state.Resource === SNS_PUBLISH) return { MessageId: "00000000-0000-0000-0000-000000000000" };
          return result;
        },
      ]),
  );
  const zero = (type: State["Type"]) =>
    Object.fromEntries(states.filter(([, state]) => state.Type === type).map(([name]) => [name, 0]));
  const machine = new StateMachine(JSON.parse(JSON.stringify(definition)) as never);
  const execution = machine.run(input as never, {
    overrides: {
      taskResourceLocalHandlers: handlers as never,
      waitTimeOverrides: zero("Wait"),
      retryIntervalOverrides: { ...zero("Task"), ...zero("Parallel") },
    },
  });
  const events: EventLog[] = [];
  const collecting = (async () => {
    for await (const event of execution.eventLogs) events.push(event);
  })();
  let status: LocalRun["status"] = "SUCCEEDED";
  let error: string | undefined;
  try {
    await execution.result;
  } catch (failure) {
    status = "FAILED";
    error = String(failure);
  }
  await collecting;
  const transitions = events.filter((e) => e.type === "StateEntered" || e.type === "StateRetried").length;
  return { status, ...(error === undefined ? {} : { error }), calls, events, transitions };
}
