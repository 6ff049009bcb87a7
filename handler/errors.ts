import type { RejectionReason } from "./acceptance/acceptance";

/**
 * Typed errors of the responder. Each carries a stable `name` (what the pipeline and the logs key on) and,
 * where it wraps something, the original error as `cause`.
 */
export class ResponderError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    // Pulumi's closure serialization turns this class into a function that calls Error without `new`, which
    // initializes nothing: in the Lambda, `this` would have no message, cause or stack, and would not be an Error.
    // So they are set here, and describeError and Lambda's runtime read them as an error's.
    this.message = message;
    if (options !== undefined && "cause" in options) this.cause = options.cause;
    if (typeof this.stack !== "string") Error.captureStackTrace(this);
    this.name = "ResponderError";
  }
}

/** A setting (environment variable) is missing or malformed: raised at cold start, naming the variable. */
export class InvalidSettingError extends ResponderError {
  constructor(
    readonly variable: string,
    reason: string,
  ) {
    super(`setting ${variable}: ${reason}`);
    this.name = "InvalidSettingError";
  }
}

/** The instance under response no longer exists (EC2 answered InvalidInstanceID.NotFound or shows it terminated). */
export class InstanceGoneError extends ResponderError {
  constructor(
    readonly instanceId: string,
    options?: { cause?: unknown },
  ) {
    super(`instance ${instanceId} no longer exists`, options);
    this.name = "InstanceGoneError";
  }
}

/** A step that the response cannot go on without failed: thrown, so the state machine's Retry asks again. */
export class StepFailedError extends ResponderError {
  constructor(
    readonly step: string,
    options: { cause: unknown },
  ) {
    super(`step ${step} failed: ${describeError(options.cause)}`, options);
    this.name = "StepFailedError";
  }
}

/** An ENI moved back to the groups it had before the response (after a late rejection or a failed isolation). */
export interface RestoredInterface {
  readonly networkInterfaceId: string;
  readonly groupIds: readonly string[];
  /** Set when the move back failed: the ENI stays where the response left it. */
  readonly problem?: string;
}

/**
 * The live instance refused the response after the claim (gone, excluded or responder-made since the finding):
 * containment was undone. Not a failure to retry: the pipeline ends the incident as released.
 */
export class LateRejectionError extends ResponderError {
  constructor(
    readonly reason: RejectionReason,
    readonly detail: string,
    readonly restored: readonly RestoredInterface[],
  ) {
    super(`rejected on the live instance (${reason}): ${detail}`);
    this.name = "LateRejectionError";
  }
}

/** The error code AWS returned (SDK v3 puts it in `name`), or undefined for anything that is not an AWS error. */
export function awsErrorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const metadata = (error as { $metadata?: unknown }).$metadata;
  const name = (error as { name?: unknown }).name;
  return metadata !== undefined && typeof name === "string" ? name : undefined;
}

/** Maps EC2's "no such instance" about the instance under response to the domain error (pure). */
export function instanceGoneError(error: unknown, instanceId: string): unknown {
  if (error instanceof InstanceGoneError) return error;
  const aboutThisInstance = error instanceof Error && error.message.includes(instanceId);
  if (awsErrorCode(error) === "InvalidInstanceID.NotFound" && aboutThisInstance) {
    return new InstanceGoneError(instanceId, { cause: error });
  }
  return error;
}

/** An Error, or one of ours as the serialized Lambda builds them (see ResponderError): a name and a message. */
function isErrorLike(error: unknown): error is { name: string; message: string } {
  if (error instanceof Error) return true;
  if (typeof error !== "object" || error === null) return false;
  const { name, message } = error as { name?: unknown; message?: unknown };
  return typeof name === "string" && typeof message === "string";
}

/**
 * Our errors, by name. In the serialized Lambda an instance of a subclass is not an instance of ResponderError
 * (Pulumi links the constructors, not their prototypes), so code that asks "is this ours?" asks this. An array,
 * not a Set (see THROTTLING_CODES).
 */
const RESPONDER_ERROR_NAMES: readonly string[] = [
  "ResponderError",
  "InvalidSettingError",
  "InstanceGoneError",
  "StepFailedError",
  "LateRejectionError",
  "PassSupersededError",
];

export function isResponderError(error: unknown): boolean {
  return isErrorLike(error) && RESPONDER_ERROR_NAMES.includes(error.name);
}

export function describeError(error: unknown): string {
  if (isErrorLike(error)) return `${error.name}: ${error.message}`;
  return String(error);
}

/**
 * The codes AWS answers a throttled request with (EC2's RequestLimitExceeded, and the names other APIs and SDK
 * paths give it). An array, not a Set: a Set captured from module scope does not survive closure serialization
 * (its methods then throw "incompatible receiver" in the Lambda).
 */
export const THROTTLING_CODES: readonly string[] = [
  "RequestLimitExceeded",
  "Throttling",
  "ThrottlingException",
  "RequestThrottled",
  "RequestThrottledException",
  "EC2ThrottledException",
  "BandwidthLimitExceeded",
];

/**
 * What a failed single-attempt mutation (CreateSnapshots, SendDiagnosticInterrupt) says about its effect (pure).
 * `throttled`: EC2 refused it before doing anything, ask again after a pause. `refused`: EC2 answered with a
 * client error, nothing was done and asking again the same way would not help. `unknown`: a 5xx, a timeout, a
 * dropped connection: it may have been done (snapshots may exist: look before asking again; an NMI may have
 * reached the instance: never send another).
 */
export function failureOutcome(error: unknown): "throttled" | "refused" | "unknown" {
  if (typeof error !== "object" || error === null) return "unknown";
  const { name, $metadata, $retryable } = error as {
    name?: unknown;
    $metadata?: { httpStatusCode?: number };
    $retryable?: { throttling?: boolean };
  };
  const status = $metadata?.httpStatusCode;
  if (
    status === 429 ||
    $retryable?.throttling === true ||
    (typeof name === "string" && THROTTLING_CODES.includes(name))
  )
    return "throttled";
  if (status !== undefined && status >= 400 && status < 500) return "refused";
  return "unknown";
}
