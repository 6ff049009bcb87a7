// The restJson1 protocol's shared parts (Lambda, GuardDuty, Security Hub): an error is its code in the
// x-amzn-errortype header with a JSON body each service words its own way; a route no simulated operation serves is
// named by method and path and answered with the service's error.
import type { AwsError } from "../errors";
import type { Answer, IncomingCall, PreparedCall } from "./http";

export function restJsonErrorAnswer(
  error: AwsError,
  requestId: string,
  body: Record<string, unknown>,
): Answer {
  return {
    status: error.httpStatus,
    headers: {
      "content-type": "application/json",
      "x-amzn-errortype": error.code,
      "x-amzn-requestid": requestId,
    },
    body: JSON.stringify(body),
  };
}

export function unservedRoute(call: IncomingCall, error: AwsError): PreparedCall {
  return {
    action: `${call.method} ${call.path}`,
    params: {},
    execute: () => {
      throw error;
    },
  };
}
