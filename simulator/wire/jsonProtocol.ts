// The awsJson protocols (1.0 and 1.1): a JSON body under a content type naming the version; an error is
// { __type, message } with the request id in a header.
import type { AwsError } from "../errors";
import type { Answer } from "./http";

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
