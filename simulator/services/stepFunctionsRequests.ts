// Step Functions' request validation, in the service's own codes and messages: ARNs, names, logging configuration,
// and pagination tokens bound to the listing they continue.
import { AwsError } from "../errors";
import type { StateMachineLogging } from "../state/model";

const MACHINE_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[^:]+$/;
const EXECUTION_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:([^:]+):[^:]+$/;
export const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/;

export function validation(message: string): AwsError {
  return new AwsError("ValidationException", `1 validation error detected: ${message}`);
}

export function arnOf(value: unknown, kind: "stateMachine" | "execution", field: string): string {
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
export function checkName(value: unknown, field: string): string {
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

export function loggingOf(value: unknown): StateMachineLogging {
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
export function page<T>(
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

export const seconds = (ms: number) => ms / 1000;

/** A request value as AWS quotes it in a validation message. */
export const shown = (value: unknown): string =>
  typeof value === "string" ? value : (JSON.stringify(value) ?? "null");
