// The awsJson protocols (1.0 and 1.1): a JSON body under a content type naming the version; an error is
// { __type, message } with the request id in a header.
import { AwsError } from "../errors";
import type { Answer, IncomingCall, PreparedCall, ServiceEndpoint } from "./http";

type JsonVersion = "1.0" | "1.1";

export function jsonAnswer(version: JsonVersion, body: unknown): Answer {
  return {
    status: 200,
    headers: { "content-type": `application/x-amz-json-${version}` },
    body: JSON.stringify(body),
  };
}

/** `type` is what the service writes in __type: the error code, or the code qualified by the service's namespace. */
export function jsonErrorAnswer(
  version: JsonVersion,
  error: AwsError,
  requestId: string,
  type: string = error.code,
): Answer {
  return {
    status: error.httpStatus,
    headers: { "content-type": `application/x-amz-json-${version}`, "x-amzn-requestid": requestId },
    body: JSON.stringify({ __type: type, message: error.message }),
  };
}

/** One action of an awsJson service: the request's JSON object in, the answer's body out. */
export type JsonHandler = (params: Record<string, unknown>) => Record<string, unknown>;

/**
 * An awsJson service whose action is named by X-Amz-Target (`<targetPrefix><Action>`): an unknown action is
 * UnknownOperationException, a body that is not a JSON object SerializationException, each in the service's
 * envelope. `beforeExecute` runs before an action's handler (a service's own request throttling).
 */
export function jsonServiceEndpoint(service: {
  signingName: string;
  version: JsonVersion;
  targetPrefix: string;
  handlers: Readonly<Record<string, JsonHandler>>;
  beforeExecute?: (action: string) => void;
}): ServiceEndpoint {
  const { version, handlers } = service;
  return {
    signingName: service.signingName,
    prepare(call: IncomingCall): PreparedCall {
      const action = String(call.headers["x-amz-target"] ?? "").replace(service.targetPrefix, "");
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
          service.beforeExecute?.(action);
          return jsonAnswer(version, handler(params));
        },
      };
    },
    errorAnswer: (error: AwsError, requestId: string): Answer => jsonErrorAnswer(version, error, requestId),
    throttlingError: () => new AwsError("ThrottlingException", "Rate exceeded", 400),
  };
}
