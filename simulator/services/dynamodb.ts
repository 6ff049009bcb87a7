// DynamoDB through the simulator's front: the request is authorized like every other, then passed unchanged to a
// real DynamoDB-compatible server (dynalite in tests and drills), which answers it. The simulator does not model
// DynamoDB itself; it only makes sure the caller's policy allows what the table is asked.
import { request as httpRequest } from "node:http";
import { AwsError } from "../errors";
import type { Answer, IncomingCall, PreparedCall, ServiceEndpoint } from "../wire/http";
import { jsonErrorAnswer } from "../wire/jsonProtocol";

const TARGET_PREFIX = "DynamoDB_20120810.";

function forward(upstream: URL, call: IncomingCall): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers = { ...call.headers, host: upstream.host };
    const outgoing = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: call.method, path: call.path, headers },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
        incoming.on("end", () => {
          const answerHeaders: Record<string, string> = {};
          for (const [name, value] of Object.entries(incoming.headers)) {
            if (typeof value === "string" && name !== "content-length" && name !== "connection")
              answerHeaders[name] = value;
          }
          resolve({
            status: incoming.statusCode ?? 500,
            headers: answerHeaders,
            body: Buffer.concat(chunks),
          });
        });
        incoming.on("error", reject);
      },
    );
    outgoing.on("error", reject);
    outgoing.end(call.body);
  });
}

export function dynamodbEndpoint(upstreamUrl: string): ServiceEndpoint {
  const upstream = new URL(upstreamUrl);
  return {
    signingName: "dynamodb",
    passThrough: true,
    prepare(call: IncomingCall): PreparedCall {
      const action = String(call.headers["x-amz-target"] ?? "").replace(TARGET_PREFIX, "");
      let tableName: unknown;
      try {
        tableName = (JSON.parse(call.body.toString("utf8")) as { TableName?: unknown }).TableName;
      } catch {
        // The upstream server answers a body it cannot parse with DynamoDB's own SerializationException.
      }
      return {
        action,
        params: typeof tableName === "string" ? { TableName: tableName } : {},
        execute: () => forward(upstream, call),
      };
    },
    errorAnswer: (error: AwsError, requestId: string): Answer =>
      jsonErrorAnswer("1.0", error, requestId, `com.amazonaws.dynamodb.v20120810#${error.code}`),
    throttlingError: () =>
      new AwsError("ThrottlingException", "Rate of requests exceeds the allowed throughput.", 400),
  };
}
