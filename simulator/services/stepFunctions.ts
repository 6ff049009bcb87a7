// AWS Step Functions (awsJson1_0: POST /, X-Amz-Target AWSStepFunctions.<Action>, signing name "states"): state
// machines (STANDARD) and their executions, run locally by stepFunctions/runner.ts. Errors carry the service's own
// codes and messages (Step Functions API Reference: CreateStateMachine, StartExecution, ...; "Common Errors").
import type { SeededRandom } from "../clock";
import { AwsError } from "../errors";
import type { BucketLimits } from "../options";
import type { StateMachine, StateMachineLogging } from "../state/model";
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
import type { Answer, IncomingCall, PreparedCall, ServiceEndpoint } from "../wire/http";

const TARGET_PREFIX = "AWSStepFunctions.";

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

const MACHINE_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[^:]+$/;
const EXECUTION_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:([^:]+):[^:]+$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/;

function validation(message: string): AwsError {
  return new AwsError("ValidationException", `1 validation error detected: ${message}`);
}

function arnOf(value: unknown, kind: "stateMachine" | "execution", field: string): string {
  if (typeof value !== "string") {
    throw validation(`Value null at '${field}' failed to satisfy constraint: Member must not be null`);
  }
  if ((kind === "stateMachine" ? MACHINE_ARN : EXECUTION_ARN).test(value)) return value;
  const other =
    kind === "stateMachine"
      ? EXECUTION_ARN.test(value) && "execution"
      : MACHINE_ARN.test(value) && "stateMachine";
  throw new AwsError(
    "InvalidArn",
    other ? `Invalid Arn: 'Resource type not valid in this context: ${other}'` : `Invalid Arn: '${value}'`,
  );
}

/**
 * Names of state machines and executions: 1-80 characters (the API's length constraint: ValidationException), none of
 * them whitespace, `? *`, `< > { } [ ]`, `" # % \ ^ | ~ ` $ & , ; : /` or a control character (InvalidName)
 * (Step Functions Developer Guide, service quotas, "General quotas"; non-ASCII letters are allowed).
 */
function checkName(value: unknown, field: string): string {
  if (typeof value !== "string") {
    throw validation(`Value null at '${field}' failed to satisfy constraint: Member must not be null`);
  }
  if (value.length < 1 || value.length > 80) {
    const bound = value.length < 1 ? "greater than or equal to 1" : "less than or equal to 80";
    throw validation(
      `Value '${value}' at '${field}' failed to satisfy constraint: Member must have length ${bound}`,
    );
  }
  const forbidden = [...value].some((char) => {
    const code = char.codePointAt(0) ?? 0;
    return (
      /\s/.test(char) ||
      '?*<>{}[]"#%\\^|~`$&,;:/'.includes(char) ||
      code <= 0x1f ||
      (code >= 0x7f && code <= 0x9f)
    );
  });
  if (forbidden) throw new AwsError("InvalidName", `Invalid Name: '${value}'`);
  return value;
}

const LOG_LEVELS = new Set(["ALL", "ERROR", "FATAL", "OFF"]);

function loggingOf(value: unknown): StateMachineLogging {
  const config = (typeof value === "object" && value !== null ? value : {}) as Partial<StateMachineLogging>;
  const level = config.level ?? "OFF";
  if (!LOG_LEVELS.has(level)) {
    throw validation(
      `Value '${String(level)}' at 'loggingConfiguration.level' failed to satisfy constraint: Member must satisfy enum value set: [ALL, ERROR, FATAL, OFF]`,
    );
  }
  const destinations = Array.isArray(config.destinations) ? config.destinations : [];
  if (level !== "OFF" && destinations.length !== 1) {
    throw new AwsError(
      "InvalidLoggingConfiguration",
      "Invalid Logging Configuration: Must specify exactly one Log Destination.",
    );
  }
  return { level, includeExecutionData: config.includeExecutionData === true, destinations };
}

/** Opaque pagination tokens bound to the listing they continue. */
function page<T>(
  items: T[],
  params: Record<string, unknown>,
  scope: string,
): { items: T[]; nextToken?: string } {
  const max = params.maxResults === undefined || params.maxResults === 0 ? 100 : params.maxResults;
  if (typeof max !== "number" || !Number.isInteger(max) || max < 0 || max > 1000) {
    throw validation(
      `Value '${shown(max)}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000`,
    );
  }
  let offset = 0;
  if (params.nextToken !== undefined) {
    const token = shown(params.nextToken);
    try {
      const decoded = JSON.parse(Buffer.from(token, "base64").toString("utf8")) as {
        scope?: unknown;
        offset?: unknown;
      };
      if (decoded.scope !== scope || typeof decoded.offset !== "number") throw new Error("foreign token");
      offset = decoded.offset;
    } catch {
      throw new AwsError("InvalidToken", `Invalid Token: '${token}'`);
    }
  }
  const slice = items.slice(offset, offset + max);
  const next = offset + max;
  return next < items.length
    ? { items: slice, nextToken: Buffer.from(JSON.stringify({ scope, offset: next })).toString("base64") }
    : { items: slice };
}

const seconds = (ms: number) => ms / 1000;

/** A request value as AWS quotes it in a validation message. */
const shown = (value: unknown): string =>
  typeof value === "string" ? value : (JSON.stringify(value) ?? "null");

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

type Handler = (params: Record<string, unknown>) => Record<string, unknown>;

function operations(world: World, sfn: StepFunctions): Record<string, Handler> {
  const describeMachine = (machine: StateMachine) => ({
    stateMachineArn: machine.stateMachineArn,
    name: machine.name,
    status: "ACTIVE",
    definition: machine.definition,
    roleArn: machine.roleArn,
    type: machine.type,
    creationDate: seconds(machine.creationDate),
    loggingConfiguration: machine.loggingConfiguration,
    tracingConfiguration: { enabled: false },
    revisionId: machine.revisionId,
  });

  const definitionOf = (value: unknown): string => {
    if (typeof value !== "string") {
      throw validation("Value null at 'definition' failed to satisfy constraint: Member must not be null");
    }
    if (value.length > 1_048_576) {
      throw validation(
        "Value at 'definition' failed to satisfy constraint: Member must have length less than or equal to 1048576",
      );
    }
    parseDefinition(value);
    return value;
  };

  const roleOf = (value: unknown): string => {
    if (typeof value !== "string") {
      throw validation("Value null at 'roleArn' failed to satisfy constraint: Member must not be null");
    }
    if (!ROLE_ARN.test(value)) throw new AwsError("InvalidArn", `Invalid Arn: '${value}'`);
    return value;
  };

  return {
    CreateStateMachine: (params) => {
      const name = checkName(params.name, "name");
      const definition = definitionOf(params.definition);
      const roleArn = roleOf(params.roleArn);
      const type = params.type ?? "STANDARD";
      if (type === "EXPRESS") {
        throw new AwsError("StateMachineTypeNotSupported", "The simulator runs STANDARD state machines only");
      }
      if (type !== "STANDARD") {
        throw validation(
          `Value '${shown(type)}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]`,
        );
      }
      const loggingConfiguration = loggingOf(params.loggingConfiguration);
      const stateMachineArn = `arn:aws:states:${world.region}:${world.accountId}:stateMachine:${name}`;
      const existing = world.stateMachines.get(stateMachineArn);
      if (existing) {
        // "CreateStateMachine is an idempotent API ... if a following request has a different roleArn or tags, Step
        // Functions will ignore these differences"; a different definition, type or logging is a conflict.
        const same =
          existing.definition === definition &&
          JSON.stringify(existing.loggingConfiguration) === JSON.stringify(loggingConfiguration);
        if (!same)
          throw new AwsError(
            "StateMachineAlreadyExists",
            `State Machine Already Exists: '${stateMachineArn}'`,
          );
        return { stateMachineArn, creationDate: seconds(existing.creationDate) };
      }
      const tags = new Map<string, string>();
      for (const tag of Array.isArray(params.tags)
        ? (params.tags as { key?: unknown; value?: unknown }[])
        : []) {
        if (typeof tag.key === "string") tags.set(tag.key, typeof tag.value === "string" ? tag.value : "");
      }
      const machine: StateMachine = {
        stateMachineArn,
        name,
        definition,
        roleArn,
        type: "STANDARD",
        creationDate: world.now(),
        revisionId: world.random.hex(32),
        loggingConfiguration,
        tags,
      };
      world.stateMachines.set(stateMachineArn, machine);
      return { stateMachineArn, creationDate: seconds(machine.creationDate) };
    },

    DescribeStateMachine: (params) =>
      describeMachine(sfn.machine(arnOf(params.stateMachineArn, "stateMachine", "stateMachineArn"))),

    UpdateStateMachine: (params) => {
      const machine = sfn.machine(arnOf(params.stateMachineArn, "stateMachine", "stateMachineArn"));
      if (
        params.definition === undefined &&
        params.roleArn === undefined &&
        params.loggingConfiguration === undefined
      ) {
        throw new AwsError(
          "MissingRequiredParameter",
          "Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be specified",
        );
      }
      // Everything is validated before anything changes. Executions already running keep the definition they
      // started with (the runner holds its own copy).
      const definition = params.definition === undefined ? undefined : definitionOf(params.definition);
      const roleArn = params.roleArn === undefined ? undefined : roleOf(params.roleArn);
      const logging =
        params.loggingConfiguration === undefined ? undefined : loggingOf(params.loggingConfiguration);
      if (definition !== undefined) machine.definition = definition;
      if (roleArn !== undefined) machine.roleArn = roleArn;
      if (logging !== undefined) machine.loggingConfiguration = logging;
      machine.updateDate = world.now();
      machine.revisionId = world.random.hex(32);
      return { updateDate: seconds(machine.updateDate), revisionId: machine.revisionId };
    },

    DeleteStateMachine: (params) => {
      // Executions already running go on to their end; the machine accepts no new ones.
      world.stateMachines.delete(arnOf(params.stateMachineArn, "stateMachine", "stateMachineArn"));
      return {};
    },

    ListStateMachines: (params) => {
      const machines = [...world.stateMachines.values()].map((machine) => ({
        stateMachineArn: machine.stateMachineArn,
        name: machine.name,
        type: machine.type,
        creationDate: seconds(machine.creationDate),
      }));
      const { items, nextToken } = page(machines, params, "ListStateMachines");
      return { stateMachines: items, ...(nextToken === undefined ? {} : { nextToken }) };
    },

    StartExecution: (params) => {
      const machine = sfn.machine(arnOf(params.stateMachineArn, "stateMachine", "stateMachineArn"));
      const name = params.name === undefined ? undefined : checkName(params.name, "name");
      const input = params.input === undefined ? "{}" : params.input;
      if (typeof input !== "string")
        throw new AwsError("SerializationException", "Start of structure or map found where not expected.");
      // The API's length constraint on `input` (262,144, the quota "Maximum input or output size ... 262,144 bytes").
      if (input.length > 262_144) {
        throw validation(
          "Value at 'input' failed to satisfy constraint: Member must have length less than or equal to 262144",
        );
      }
      try {
        JSON.parse(input);
      } catch (error) {
        throw new AwsError(
          "InvalidExecutionInput",
          `Invalid State Machine Execution Input: '${error instanceof Error ? error.message : String(error)}'`,
        );
      }
      const record = sfn.start(machine, name, input);
      return { executionArn: record.executionArn, startDate: seconds(record.startDate) };
    },

    DescribeExecution: (params) => {
      const { record } = sfn.run(arnOf(params.executionArn, "execution", "executionArn"));
      return {
        executionArn: record.executionArn,
        stateMachineArn: record.stateMachineArn,
        name: record.name,
        status: record.status,
        startDate: seconds(record.startDate),
        ...(record.stopDate === undefined ? {} : { stopDate: seconds(record.stopDate) }),
        input: record.input,
        inputDetails: { included: true },
        ...(record.output === undefined ? {} : { output: record.output, outputDetails: { included: true } }),
        ...(record.error === undefined ? {} : { error: record.error }),
        ...(record.cause === undefined ? {} : { cause: record.cause }),
        redriveCount: 0,
      };
    },

    GetExecutionHistory: (params) => {
      const arn = arnOf(params.executionArn, "execution", "executionArn");
      const { record } = sfn.run(arn);
      const includeData = params.includeExecutionData !== false;
      const events = record.history.events.map((event) => {
        const view: Record<string, unknown> = { ...event, timestamp: seconds(event.timestamp) };
        if (!includeData) {
          for (const [key, details] of Object.entries(view)) {
            if (!key.endsWith("EventDetails") || typeof details !== "object" || details === null) continue;
            const rest = { ...(details as Record<string, unknown>) };
            delete rest.input;
            delete rest.output;
            view[key] = rest;
          }
        }
        return view;
      });
      if (params.reverseOrder === true) events.reverse();
      const { items, nextToken } = page(
        events,
        params,
        `GetExecutionHistory ${arn} ${String(params.reverseOrder === true)}`,
      );
      return { events: items, ...(nextToken === undefined ? {} : { nextToken }) };
    },

    StopExecution: (params) => {
      const run = sfn.run(arnOf(params.executionArn, "execution", "executionArn"));
      const error = typeof params.error === "string" ? params.error : undefined;
      const cause = typeof params.cause === "string" ? params.cause : undefined;
      if (error !== undefined && error.length > 256) {
        throw validation(
          "Value at 'error' failed to satisfy constraint: Member must have length less than or equal to 256",
        );
      }
      if (cause !== undefined && cause.length > 32_768) {
        throw validation(
          "Value at 'cause' failed to satisfy constraint: Member must have length less than or equal to 32768",
        );
      }
      run.stop(error, cause);
      return { stopDate: seconds(run.record.stopDate ?? world.now()) };
    },

    ListExecutions: (params) => {
      if (params.stateMachineArn === undefined) {
        throw validation(
          "Value null at 'stateMachineArn' failed to satisfy constraint: Must provide a StateMachine ARN or MapRun ARN",
        );
      }
      const machineArn = arnOf(params.stateMachineArn, "stateMachine", "stateMachineArn");
      sfn.machine(machineArn);
      const filter = params.statusFilter;
      if (
        filter !== undefined &&
        !["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"].includes(shown(filter))
      ) {
        throw validation(
          `Value '${shown(filter)}' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE]`,
        );
      }
      const executions = sfn
        .executionsOf(machineArn)
        .filter((record) => filter === undefined || record.status === filter)
        .reverse()
        .map((record) => ({
          executionArn: record.executionArn,
          stateMachineArn: record.stateMachineArn,
          name: record.name,
          status: record.status,
          startDate: seconds(record.startDate),
          ...(record.stopDate === undefined ? {} : { stopDate: seconds(record.stopDate) }),
        }));
      const { items, nextToken } = page(executions, params, `ListExecutions ${machineArn} ${shown(filter)}`);
      return { executions: items, ...(nextToken === undefined ? {} : { nextToken }) };
    },
  };
}

export function stepFunctionsEndpoint(world: World, sfn: StepFunctions): ServiceEndpoint {
  const handlers = operations(world, sfn);
  return {
    signingName: "states",
    prepare(call: IncomingCall): PreparedCall {
      const action = String(call.headers["x-amz-target"] ?? "").replace(TARGET_PREFIX, "");
      let params: Record<string, unknown> | undefined;
      try {
        const parsed: unknown = JSON.parse(call.body.length === 0 ? "{}" : call.body.toString("utf8"));
        if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed))
          params = parsed as Record<string, unknown>;
      } catch {
        params = undefined;
      }
      return {
        action,
        params: params ?? {},
        execute: (): Answer => {
          const handler = handlers[action];
          if (!handler)
            throw new AwsError("UnknownOperationException", `Unknown operation ${action || "(none)"}`);
          if (!params)
            throw new AwsError("SerializationException", "Could not parse the request body as JSON");
          sfn.throttle(action);
          return {
            status: 200,
            headers: { "content-type": "application/x-amz-json-1.0" },
            body: JSON.stringify(handler(params)),
          };
        },
      };
    },
    errorAnswer(error: AwsError, requestId: string): Answer {
      return {
        status: error.httpStatus,
        headers: { "content-type": "application/x-amz-json-1.0", "x-amzn-requestid": requestId },
        body: JSON.stringify({ __type: error.code, message: error.message }),
      };
    },
    throttlingError: () => new AwsError("ThrottlingException", "Rate exceeded", 400),
  };
}
