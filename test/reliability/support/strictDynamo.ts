// A DynamoDB endpoint that refuses what DynamoDB refuses and dynalite stores: a string (value or map key) that is
// not valid UTF-8, i.e. one holding a lone UTF-16 surrogate. The SDK serializes such a string as a "\udXXX"
// escape; DynamoDB stores UTF-8 and answers a ValidationException (the exact message is inferred, not recorded
// from AWS). Everything else is passed unchanged to the upstream endpoint (the simulator's DynamoDB front).
import { createServer, request as httpRequest, type IncomingMessage, type Server } from "http";
import type { AddressInfo } from "net";

import { illFormedPaths } from "./storable";

export interface StrictDynamo {
  readonly url: string;
  /** The requests refused (action and where the ill-formed string was). */
  readonly refused: { action: string; paths: string[] }[];
  stop(): Promise<void>;
}

function body(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

export interface StrictDynamoOptions {
  /**
   * Also refuse every PutItem holding a character outside printable ASCII: a stand-in for a refusal of the
   * item's text that nobody foresaw, to prove the claim survives one.
   */
  readonly refuseNonAsciiPuts?: boolean;
}

export async function startStrictDynamo(
  upstreamUrl: string,
  options: StrictDynamoOptions = {},
): Promise<StrictDynamo> {
  const upstream = new URL(upstreamUrl);
  const refused: StrictDynamo["refused"] = [];
  const server: Server = createServer((request, response) => {
    void (async () => {
      const payload = await body(request);
      const action =
        String(request.headers["x-amz-target"] ?? "")
          .split(".")
          .pop() ?? "";
      let parsed: unknown;
      try {
        parsed = JSON.parse(payload.toString("utf8"));
      } catch {
        parsed = undefined;
      }
      const paths = illFormedPaths(parsed);
      if (
        options.refuseNonAsciiPuts === true &&
        action === "PutItem" &&
        /[^\x20-\x7e]/.test(JSON.stringify(parsed))
      )
        paths.push("(a character outside printable ASCII)");
      if (paths.length > 0) {
        refused.push({ action, paths });
        const answer = JSON.stringify({
          __type: "com.amazon.coral.validate#ValidationException",
          message: "One or more parameter values were invalid: a string is not valid UTF-8",
        });
        response.writeHead(400, {
          "content-type": "application/x-amz-json-1.0",
          "x-amzn-requestid": "strict-dynamo",
          "content-length": Buffer.byteLength(answer),
        });
        response.end(answer);
        return;
      }
      const outgoing = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: request.method,
          path: request.url,
          headers: request.headers,
        },
        (incoming) => {
          response.writeHead(incoming.statusCode ?? 500, incoming.headers);
          incoming.pipe(response);
        },
      );
      outgoing.on("error", (error) => {
        response.writeHead(502);
        response.end(String(error));
      });
      outgoing.end(payload);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    refused,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
