// The Step Functions API (awsJson1_0: POST /, X-Amz-Target AWSStepFunctions.<Action>, signing name "states"): each
// action's validation and answer, in the service's own codes and messages (Step Functions API Reference:
// CreateStateMachine, StartExecution, ...; "Common Errors").
import { AwsError } from "../errors";
import type { StateMachine } from "../state/model";
import type { World } from "../state/world";
import { parseDefinition } from "../stepFunctions/definition";
import type { ExecutionRecord } from "../stepFunctions/runner";
import type { ServiceEndpoint } from "../wire/http";
import { jsonServiceEndpoint, type JsonHandler } from "../wire/jsonProtocol";
import type { StepFunctions } from "./stepFunctions";
import {
  arnOf,
  checkName,
  loggingOf,
  page,
  ROLE_ARN,
  seconds,
  shown,
  validation,
} from "./stepFunctionsRequests";

const TARGET_PREFIX = "AWSStepFunctions.";

/** An execution as ListExecutions lists it (DescribeExecution tells more). */
function executionSummary(record: ExecutionRecord) {
  return {
    executionArn: record.executionArn,
    stateMachineArn: record.stateMachineArn,
    name: record.name,
    status: record.status,
    startDate: seconds(record.startDate),
    ...(record.stopDate === undefined ? {} : { stopDate: seconds(record.stopDate) }),
  };
}

function operations(world: World, sfn: StepFunctions): Record<string, JsonHandler> {
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
        ...executionSummary(record),
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
        .map(executionSummary);
      const { items, nextToken } = page(executions, params, `ListExecutions ${machineArn} ${shown(filter)}`);
      return { executions: items, ...(nextToken === undefined ? {} : { nextToken }) };
    },
  };
}

export function stepFunctionsEndpoint(world: World, sfn: StepFunctions): ServiceEndpoint {
  return jsonServiceEndpoint({
    signingName: "states",
    version: "1.0",
    targetPrefix: TARGET_PREFIX,
    handlers: operations(world, sfn),
    beforeExecute: (action) => sfn.throttle(action),
  });
}
