// Lambda Invoke (restJson1): delivers the payload to a function registered with sim.lambda.register().
// Event invocations answer 202 at once and run the target in the background, as Lambda's async queue does.
import type { InvocationType, LambdaInvocation, LambdaTarget } from "../api";
import { AwsError } from "../errors";
import type { World } from "../state/world";
import type { Answer, IncomingCall, PreparedCall, ServiceEndpoint } from "../wire/http";
import { restJsonErrorAnswer } from "../wire/restJsonProtocol";

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
/** Documented payload quotas: 6 MB synchronous, 256 KB asynchronous (Lambda quotas page). */
const MAX_SYNC_PAYLOAD = 6 * 1024 * 1024;
const MAX_ASYNC_PAYLOAD = 256 * 1024;

export class LambdaFunctions {
  readonly targets = new Map<string, LambdaTarget>();
  readonly invocations: LambdaInvocation[] = [];
  /** Background (Event) invocations still running, so stop() can wait for them. */
  readonly inFlight = new Set<Promise<void>>();

  register(functionName: string, target: LambdaTarget): void {
    this.targets.set(functionName, target);
  }
}

/**
 * A FunctionName as Lambda's Invoke takes it: a name, `name:qualifier`, a partial ARN (`account:function:name`) or a
 * full ARN (`arn:aws:lambda:region:account:function:name`), each with an optional version or alias qualifier, which
 * the `Qualifier` query parameter may also give (Lambda API Reference, Invoke, "FunctionName" and "Qualifier").
 */
function parseFunctionName(
  raw: string,
  qualifierParameter?: string,
): { name: string; qualifier?: string } | { error: string } {
  const parts = raw.split(":");
  const index = parts.indexOf("function");
  const [name = "", qualifier] = index >= 0 ? parts.slice(index + 1) : parts;
  const extra = index >= 0 ? parts.length - index - 1 > 2 : parts.length > 2;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name) || extra || (qualifier !== undefined && qualifier === "")) {
    return {
      error: `1 validation error detected: Value '${raw}' at 'functionName' failed to satisfy constraint`,
    };
  }
  if (qualifier !== undefined && qualifierParameter !== undefined && qualifier !== qualifierParameter) {
    return { error: "The derived qualifier from the function name does not match the specified qualifier." };
  }
  const resolved = qualifier ?? qualifierParameter;
  return resolved === undefined ? { name } : { name, qualifier: resolved };
}

/** The version a qualifier runs: a version number runs itself; $LATEST, an alias or none run $LATEST (no versions here). */
function executedVersion(qualifier: string | undefined): string {
  return qualifier !== undefined && /^\d+$/.test(qualifier) ? qualifier : "$LATEST";
}

/** The ARN Lambda authorizes an Invoke on: qualified when the request names a version or alias. */
export function functionArn(region: string, accountId: string, name: string, qualifier?: string): string {
  return `arn:aws:lambda:${region}:${accountId}:function:${name}${qualifier === undefined ? "" : `:${qualifier}`}`;
}

export function lambdaEndpoint(world: World, functions: LambdaFunctions): ServiceEndpoint {
  return {
    signingName: "lambda",
    prepare(call: IncomingCall): PreparedCall {
      const match = INVOKE_PATH.exec(call.path);
      if (!match || call.method !== "POST") {
        return {
          action: `${call.method} ${call.path}`,
          params: {},
          execute: () => {
            throw new AwsError(
              "UnknownOperationException",
              `Unknown operation ${call.method} ${call.path}`,
              404,
            );
          },
        };
      }
      const parsed = parseFunctionName(
        decodeURIComponent(match[1] ?? ""),
        call.query.get("Qualifier") ?? undefined,
      );
      const functionName = "name" in parsed ? parsed.name : "";
      const qualifier = "name" in parsed ? parsed.qualifier : undefined;
      const invocationType = String(
        call.headers["x-amz-invocation-type"] ?? "RequestResponse",
      ) as InvocationType;
      return {
        action: "Invoke",
        params: {
          FunctionName: functionName,
          ...(qualifier === undefined ? {} : { Qualifier: qualifier }),
          InvocationType: invocationType,
        },
        execute: async (): Promise<Answer> => {
          if ("error" in parsed) throw new AwsError("InvalidParameterValueException", parsed.error);
          const target = functions.targets.get(functionName);
          const arn = functionArn(world.region, world.accountId, functionName, qualifier);
          if (!target) throw new AwsError("ResourceNotFoundException", `Function not found: ${arn}`, 404);
          const version = executedVersion(qualifier);
          if (!["RequestResponse", "Event", "DryRun"].includes(invocationType)) {
            throw new AwsError("InvalidParameterValueException", `Invalid invocation type ${invocationType}`);
          }
          const limit = invocationType === "Event" ? MAX_ASYNC_PAYLOAD : MAX_SYNC_PAYLOAD;
          if (call.body.length > limit) {
            throw new AwsError(
              "RequestTooLargeException",
              `Request must be smaller than ${limit} bytes for the Invoke operation`,
              413,
            );
          }
          let payload: unknown = {};
          if (call.body.length > 0) {
            try {
              payload = JSON.parse(call.body.toString("utf8"));
            } catch {
              throw new AwsError("InvalidRequestContentException", "Could not parse request body into json");
            }
          }
          if (invocationType === "DryRun") return { status: 204 };
          const record: LambdaInvocation = {
            functionName,
            ...(qualifier === undefined ? {} : { qualifier }),
            invocationType,
            payload,
            at: world.now(),
            outcome: "pending",
          };
          functions.invocations.push(record);
          const run = async (): Promise<unknown> => {
            try {
              const result = await target(payload, invocationType);
              record.outcome = "succeeded";
              return result;
            } catch (error) {
              record.outcome = "failed";
              record.error = error instanceof Error ? error.message : String(error);
              throw error;
            }
          };
          if (invocationType === "Event") {
            const background = run().then(
              () => undefined,
              () => undefined,
            );
            functions.inFlight.add(background);
            void background.finally(() => functions.inFlight.delete(background));
            return { status: 202, headers: { "x-amzn-requestid": call.requestId } };
          }
          try {
            const result = await run();
            return {
              status: 200,
              headers: { "content-type": "application/json", "x-amz-executed-version": version },
              body: result === undefined ? "null" : JSON.stringify(result),
            };
          } catch (error) {
            const err = error instanceof Error ? error : new Error(String(error));
            return {
              status: 200,
              headers: {
                "content-type": "application/json",
                "x-amz-function-error": "Unhandled",
                "x-amz-executed-version": version,
              },
              body: JSON.stringify({
                errorType: err.name,
                errorMessage: err.message,
                trace: (err.stack ?? "").split("\n"),
              }),
            };
          }
        },
      };
    },
    errorAnswer(error: AwsError, requestId: string): Answer {
      return restJsonErrorAnswer(error, requestId, {
        Type: error.fault === "Sender" ? "User" : "Service",
        message: error.message,
      });
    },
    throttlingError: () => new AwsError("TooManyRequestsException", "Rate Exceeded.", 429),
  };
}
