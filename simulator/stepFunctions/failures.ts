// How the runner fails a state so that aws-local-stepfunctions handles the failure as its own: Retry and Catch
// read an error's name, and States.Timeout must be of the library's own class.
import { ExecutionError, StateMachine } from "aws-local-stepfunctions";

/**
 * A state's failure as the library handles one: name = Error, message = Cause, and whether a Retry or Catch may
 * handle it (States.Runtime: neither).
 */
export class StateFailure extends Error {
  constructor(
    name: string,
    cause: string,
    readonly isRetryable = true,
    readonly isCatchable = true,
  ) {
    super(cause);
    this.name = name;
  }
}

export const runtimeFailure = (cause: string) => new StateFailure("States.Runtime", cause, false, false);

/** The execution (or the branch) stopped: nothing may handle it. */
export class Aborted extends StateFailure {
  constructor() {
    super("Simulator.Aborted", "The execution was stopped", false, false);
  }
}

/**
 * The library exempts its own Task timeout from `States.TaskFailed` in Retry and Catch by class
 * (`instanceof StatesTimeoutError`) and does not export the class. A States.Timeout raised here must be of that
 * class, or a Catch on States.TaskFailed would take it, which AWS does not ("States.TaskFailed ... matches any
 * known error name except for States.Timeout"). The class is taken once from a probe: a Task that times out after
 * 1 ms.
 */
let timeoutClass: Promise<new () => Error> | undefined;
export function statesTimeoutClass(): Promise<new () => Error> {
  timeoutClass ??= (async () => {
    const probe = new StateMachine(
      {
        StartAt: "Probe",
        States: {
          Probe: {
            Type: "Task",
            Resource: "arn:aws:lambda:us-east-1:000000000000:function:probe",
            TimeoutSeconds: 0.001,
            End: true,
          },
        },
      },
      { validationOptions: { noValidate: true } },
    );
    let release = (): void => undefined;
    const pending = new Promise<null>((resolve) => (release = () => resolve(null)));
    const run = probe.run(null, { overrides: { taskResourceLocalHandlers: { Probe: () => pending } } });
    try {
      await run.result;
    } catch (error) {
      const cause = error instanceof ExecutionError ? error.cause : undefined;
      if (cause instanceof Error && cause.name === "States.Timeout") {
        return cause.constructor as new () => Error;
      }
    } finally {
      release();
    }
    throw new Error("aws-local-stepfunctions did not time out its probe Task: cannot raise States.Timeout");
  })();
  return timeoutClass;
}
