// An HTTP proxy between the responder and the simulator that can lose a response AFTER AWS has executed the
// request: the connection drops once the simulator has answered, so the SDK sees a network error and retries a
// call whose effect already happened. This is the dangerous half of a timeout, and the simulator's own timeout
// fault (which drops the request before it is executed) cannot produce it.
import { createServer, request as httpRequest, type IncomingMessage, type Server } from "http";
import type { AddressInfo } from "net";

export interface LostResponseRule {
  /**
   * The API action whose answer is lost (Query: the Action parameter; JSON protocols such as Step Functions: the
   * operation X-Amz-Target names; S3: PutObject; Lambda: Invoke).
   */
  readonly action: string;
  /** How many answers to lose; later calls pass through. */
  readonly count: number;
  /** Let this many answers through first. */
  readonly skip?: number;
}

export interface LostResponse {
  readonly action: string;
  /** The request's path (S3: bucket and key) and body, to tell which call of an action was hit. */
  readonly request: string;
  /** HTTP status the simulator answered with (the responder never saw it). */
  readonly status: number;
}

/** The action a request is for, read the way each protocol names it (`target`: the X-Amz-Target header). */
function actionOfRequest(method: string, path: string, body: string, target?: string): string {
  const queryAction = /(?:^|&)Action=([A-Za-z0-9]+)/.exec(body)?.[1];
  if (queryAction !== undefined) return queryAction;
  // awsJson (Step Functions, DynamoDB): "AWSStepFunctions.StartExecution".
  const jsonAction = /^[A-Za-z0-9_]+\.([A-Za-z0-9]+)$/.exec(target ?? "")?.[1];
  if (jsonAction !== undefined) return jsonAction;
  if (/^\/2015-03-31\/functions\/[^/]+\/invocations/.test(path)) return "Invoke";
  if (method === "PUT" && path.split("/").filter((part) => part !== "").length >= 2) return "PutObject";
  return `${method} ${path}`;
}

function readAll(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => resolve(Buffer.concat(chunks)));
    stream.on("error", reject);
  });
}

export class ResponseLosingProxy {
  /** Where requests go (the simulator's endpoint); set once the simulator is up. */
  target = "";
  readonly lost: LostResponse[] = [];
  private rules: { rule: LostResponseRule; seen: number; fired: number }[] = [];

  private readonly server: Server;
  private address = "";

  private constructor() {
    this.server = createServer((incoming, outgoing) => {
      void this.forward(incoming, outgoing.socket, (status, headers, body) => {
        outgoing.writeHead(status, headers);
        outgoing.end(body);
      });
    });
    this.server.keepAliveTimeout = 5_000;
  }

  /** Where the responder sends its requests (set AWS_ENDPOINT_URL to it). */
  get endpoint(): string {
    return this.address;
  }

  static async start(): Promise<ResponseLosingProxy> {
    const proxy = new ResponseLosingProxy();
    await new Promise<void>((resolve) => proxy.server.listen(0, "127.0.0.1", resolve));
    proxy.address = `http://127.0.0.1:${(proxy.server.address() as AddressInfo).port}`;
    return proxy;
  }

  loseResponses(rule: LostResponseRule): void {
    this.rules.push({ rule, seen: 0, fired: 0 });
  }

  clear(): void {
    this.rules = [];
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }

  private async forward(
    incoming: IncomingMessage,
    clientSocket: IncomingMessage["socket"] | null,
    answer: (status: number, headers: IncomingMessage["headers"], body: Buffer) => void,
  ): Promise<void> {
    const body = await readAll(incoming);
    const target = incoming.headers["x-amz-target"];
    const action = actionOfRequest(
      incoming.method ?? "GET",
      incoming.url ?? "/",
      body.toString("utf8"),
      typeof target === "string" ? target : undefined,
    );
    const upstream = new URL(incoming.url ?? "/", this.target);
    const response = await new Promise<{ status: number; headers: IncomingMessage["headers"]; body: Buffer }>(
      (resolve, reject) => {
        const forwarded = httpRequest(
          upstream,
          { method: incoming.method, headers: incoming.headers },
          (reply) => {
            void readAll(reply).then(
              (replyBody) =>
                resolve({ status: reply.statusCode ?? 502, headers: reply.headers, body: replyBody }),
              reject,
            );
          },
        );
        forwarded.on("error", reject);
        forwarded.end(body);
      },
    ).catch(() => undefined);
    if (response === undefined) {
      clientSocket?.destroy();
      return;
    }
    const matching = this.rules.find(({ rule, fired }) => rule.action === action && fired < rule.count);
    if (matching !== undefined && (matching.seen += 1) > (matching.rule.skip ?? 0)) {
      matching.fired += 1;
      this.lost.push({
        action,
        request: `${incoming.url ?? ""} ${body.toString("utf8")}`,
        status: response.status,
      });
      // The simulator has executed the call; the responder only sees the connection drop.
      clientSocket?.destroy();
      return;
    }
    answer(response.status, response.headers, response.body);
  }
}
