// The `ir` command's exit codes, and the mapping of AWS errors to them: scripts branch on the code, people read
// the message, which names the refused action (from the AWS error, else the SDK command that met it).

export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  /** Refused as unsafe or rejected (the reason is printed). */
  refused: 3,
  notFound: 4,
  accessDenied: 5,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error the command explains itself: its message is printed as is, the process exits with `exitCode`. */
export class IrError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = "IrError";
  }
}

export const refused = (message: string): IrError => new IrError(message, EXIT.refused);
export const notFound = (message: string): IrError => new IrError(message, EXIT.notFound);
export const usage = (message: string): IrError => new IrError(message, EXIT.usage);

/** Set on SDK errors by the clients' middleware (ir/context.ts): the call that failed, e.g. ec2:StopInstances. */
export const FAILED_CALL = Symbol("ir.failedCall");

const ACCESS_DENIED = new Set([
  "AccessDenied",
  "AccessDeniedException",
  "UnauthorizedOperation",
  "AuthorizationError",
  "AuthorizationErrorException",
  "UnauthorizedException",
]);

interface AwsLikeError {
  name?: string;
  message?: string;
  [FAILED_CALL]?: string;
}

/** The message and exit code for anything a command threw. */
export function explain(error: unknown): { message: string; exitCode: ExitCode } {
  if (error instanceof IrError) return { message: error.message, exitCode: error.exitCode };
  const aws = (typeof error === "object" && error !== null ? error : {}) as AwsLikeError;
  const message = aws.message ?? String(error);
  if (ACCESS_DENIED.has(aws.name ?? "")) {
    // IAM names the action in its message ("... not authorized to perform: ec2:StopInstances on resource: ...").
    const action = /perform: ([a-z0-9-]+:[A-Za-z0-9]+)/.exec(message)?.[1] ?? aws[FAILED_CALL] ?? "an action";
    return {
      message: `access denied: your credentials may not call ${action} (${aws.name}: ${message})`,
      exitCode: EXIT.accessDenied,
    };
  }
  const call = aws[FAILED_CALL] === undefined ? "" : ` (${aws[FAILED_CALL]})`;
  return { message: `${aws.name ?? "Error"}${call}: ${message}`, exitCode: EXIT.failed };
}
