// AWS Step Functions: state machines (STANDARD) and their executions, run locally by stepFunctions/runner.ts, with
// the service's API throttling; the API itself is stepFunctionsApi.ts.
import type { SeededRandom } from "../clock";
import { AwsError } from "../errors";
import type { BucketLimits } from "../options";
import type { StateMachine } from "../state/model";
import type { World } from "../state/world";
import { parseDefinition } from "../stepFunctions/definition";
import { History, type HistoryEvent } from "../stepFunctions/history";
import {
  ExecutionRun,
  type ExecutionRecord,
  type ExecutionStatus,
  type RunnerDeps,
} from "../stepFunctions/runner";
import { TokenBucket } from "../throttling";

/**
 * Step Functions' API throttling: one token bucket per action, per account and Region; an empty bucket answers
 * ThrottlingException. Values from the Step Functions Developer Guide, "Step Functions service quotas"
 * (docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html), "Quotas related to API action throttling":
 * StartExecution, Standard workflows: bucket size 1,300 and refill rate 300 per second in US East (N. Virginia),
 * US West (Oregon) and Europe (Ireland), 800 and 150 in all other Regions; and "Other quotas" for the other actions
 * served here, with the same Region split. Read in the guide's source (awsdocs/aws-step-functions-developer-guide,
 * doc_source/limits-overview.md); "AWS Step Functions may increase both the bucket size and refill rate at any time".
 */
const LARGE_REGIONS = new Set(["us-east-1", "us-west-2", "eu-west-1"]);

export function stepFunctionsApiLimits(region: string): Record<string, BucketLimits> {
  const large = LARGE_REGIONS.has(region);
  const bucket = (capacity: number, refillPerSecond: number): BucketLimits => ({ capacity, refillPerSecond });
  return {
    StartExecution: large ? bucket(1300, 300) : bucket(800, 150),
    CreateStateMachine: bucket(100, 1),
    DeleteStateMachine: bucket(100, 1),
    DescribeExecution: large ? bucket(300, 15) : bucket(250, 10),
    DescribeStateMachine: bucket(200, 20),
    GetExecutionHistory: bucket(400, 20),
    ListExecutions: large ? bucket(200, 5) : bucket(100, 2),
    ListStateMachines: bucket(100, 5),
    StopExecution: large ? bucket(1000, 200) : bucket(500, 25),
    UpdateStateMachine: bucket(100, 1),
  };
}

export interface StepFunctionsThrottling {
  /** false turns Step Functions' API throttling off (default on, with the documented values). */
  enabled?: boolean;
  /** Override an action's bucket (e.g. { StartExecution: { capacity: 2, refillPerSecond: 1 } }). */
  actions?: Record<string, BucketLimits>;
}

/** An execution as the simulator's API shows it: copies, times in simulated epoch ms. */
export interface StepFunctionsExecution {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  roleArn: string;
  status: ExecutionStatus;
  /** JSON text as given to StartExecution; output likewise as the execution produced it. */
  input: string;
  output?: string;
  error?: string;
  cause?: string;
  startDate: number;
  stopDate?: number;
  /** The history as GetExecutionHistory answers it (timestamps in simulated epoch ms). */
  history: HistoryEvent[];
}

function copyOf(record: ExecutionRecord): StepFunctionsExecution {
  return structuredClone({
    executionArn: record.executionArn,
    stateMachineArn: record.stateMachineArn,
    name: record.name,
    roleArn: record.roleArn,
    status: record.status,
    input: record.input,
    ...(record.output === undefined ? {} : { output: record.output }),
    ...(record.error === undefined ? {} : { error: record.error }),
    ...(record.cause === undefined ? {} : { cause: record.cause }),
    startDate: record.startDate,
    ...(record.stopDate === undefined ? {} : { stopDate: record.stopDate }),
    history: record.history.events,
  });
}

export class StepFunctions {
  private readonly runs = new Map<string, ExecutionRun>();
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly limits: Record<string, BucketLimits>;

  constructor(
    private readonly world: World,
    private readonly deps: RunnerDeps & { random: SeededRandom },
    private readonly throttling: StepFunctionsThrottling = {},
  ) {
    this.limits = { ...stepFunctionsApiLimits(world.region), ...throttling.actions };
  }

  /** Takes a token from the action's bucket, or answers ThrottlingException. */
  throttle(action: string): void {
    if (this.throttling.enabled === false) return;
    const limits = this.limits[action];
    if (!limits) return;
    const now = this.world.now();
    let bucket = this.buckets.get(action);
    if (!bucket) this.buckets.set(action, (bucket = new TokenBucket(limits, now)));
    if (bucket.available(now) < 1) throw new AwsError("ThrottlingException", "Rate exceeded");
    bucket.take(1);
  }

  machine(arn: string): StateMachine {
    const machine = this.world.stateMachines.get(arn);
    if (!machine) throw new AwsError("StateMachineDoesNotExist", `State Machine Does Not Exist: '${arn}'`);
    return machine;
  }

  run(arn: string): ExecutionRun {
    const run = this.runs.get(arn);
    if (!run) throw new AwsError("ExecutionDoesNotExist", `Execution Does Not Exist: '${arn}'`);
    return run;
  }

  executionsOf(machineArn: string): ExecutionRecord[] {
    return [...this.runs.values()]
      .map((run) => run.record)
      .filter((record) => record.stateMachineArn === machineArn);
  }

  /** A v4 UUID from the simulator's seeded generator (reproducible names). */
  private uuid(): string {
    const hex = this.deps.random.hex(32);
    const variant = "89ab"[Math.floor(this.deps.random.next() * 4)] ?? "8";
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }

  /**
   * StartExecution for a STANDARD machine: "If StartExecution is called with the same name and input as a running
   * execution, the call succeeds and returns the same response as the original request. If the execution is closed or
   * if the input is different, it returns a 400 ExecutionAlreadyExists error" (API Reference, StartExecution).
   */
  start(machine: StateMachine, requestedName: string | undefined, input: string): ExecutionRecord {
    const name = requestedName ?? this.uuid();
    const executionArn = machine.stateMachineArn.replace(":stateMachine:", ":execution:") + `:${name}`;
    const existing = this.runs.get(executionArn)?.record;
    if (existing) {
      if (existing.status === "RUNNING" && existing.input === input) return existing;
      throw new AwsError("ExecutionAlreadyExists", `Execution Already Exists: '${executionArn}'`);
    }
    const definition = parseDefinition(machine.definition);
    const holder: { run?: ExecutionRun } = {};
    const record: ExecutionRecord = {
      executionArn,
      stateMachineArn: machine.stateMachineArn,
      stateMachineName: machine.name,
      name,
      roleArn: machine.roleArn,
      input,
      status: "RUNNING",
      startDate: this.world.now(),
      history: new History(
        () => this.world.now(),
        () => holder.run?.limitReached(),
      ),
    };
    const run = new ExecutionRun(this.deps, record, definition);
    holder.run = run;
    this.runs.set(executionArn, run);
    return record;
  }

  /** Aborts every running execution, waits for them to stop, and closes the integrations' connections. */
  async shutdown(): Promise<void> {
    const runs = [...this.runs.values()];
    for (const run of runs) run.stop(undefined, "The simulator stopped while the execution was running.");
    await Promise.allSettled(runs.map((run) => run.done));
    this.deps.integrations.close();
  }

  /** What Simulator.stepFunctions shows (api.ts). */
  view() {
    const runs = this.runs;
    return {
      get executions(): readonly StepFunctionsExecution[] {
        return [...runs.values()].map((run) => copyOf(run.record));
      },
      execution(arnOrName: string): StepFunctionsExecution | undefined {
        const run =
          runs.get(arnOrName) ??
          [...runs.values()].reverse().find((candidate) => candidate.record.name === arnOrName);
        return run && copyOf(run.record);
      },
      async waitForExecution(executionArn: string): Promise<StepFunctionsExecution> {
        const run = runs.get(executionArn);
        if (!run) throw new Error(`no execution ${executionArn} was started`);
        await run.done;
        return copyOf(run.record);
      },
      async settled(): Promise<void> {
        for (;;) {
          const running = [...runs.values()].filter(
            (run) => run.record.status === "RUNNING" || !run.record.history.closed,
          );
          if (running.length === 0) return;
          await Promise.allSettled(running.map((run) => run.done));
        }
      },
    };
  }
}
