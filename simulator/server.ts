// The HTTP front: routes each request to a service by its SigV4 credential scope, then applies the realism
// knobs in the order AWS would show them: injected fault, latency, EC2 throttling, the action itself.
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { SeededRandom, SimClock } from "./clock";
import { AwsError } from "./errors";
import type { FaultInjector } from "./faults";
import type { Authorizer, Principal } from "./iam/authorizer";
import { EBS_KMS_ACTIONS } from "./lifecycle/volumes";
import { checksFor } from "./iam/requestChecks";
import type { World } from "./state/world";
import type { CallRecord, FaultKind, LatencyOptions } from "./options";
import type { Ec2Throttler } from "./throttling";
import type { Answer, IncomingCall, PreparedCall, ServiceEndpoint } from "./wire/http";
import { escapeXml } from "./wire/schemaCodec";

export interface ServerParts {
  clock: SimClock;
  random: SeededRandom;
  endpoints: ServiceEndpoint[];
  faults: FaultInjector;
  throttler: Ec2Throttler;
  latency?: LatencyOptions;
  calls: CallRecord[];
  /** Absent only when a test opted out of IAM evaluation (`iam: "off"`). */
  authorizer?: Authorizer;
  world: World;
}

/** The service a request is for: the credential scope of its SigV4 signature (.../region/SERVICE/aws4_request). */
function signingServiceOf(headers: IncomingMessage["headers"], query: URLSearchParams): string | undefined {
  const authorization = headers.authorization ?? "";
  const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(authorization);
  if (scope?.[1]) return scope[1];
  const presigned = query.get("X-Amz-Credential")?.split("/");
  return presigned?.[3];
}

/** The access key the request is signed with (SigV4 header or presigned query). */
export function accessKeyOf(headers: IncomingMessage["headers"], query: URLSearchParams): string | undefined {
  const credential = /Credential=([^/,\s]+)\//.exec(headers.authorization ?? "");
  return credential?.[1] ?? query.get("X-Amz-Credential")?.split("/")[0];
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

function faultError(fault: FaultKind, endpoint: ServiceEndpoint | undefined): AwsError {
  switch (fault.type) {
    case "internalError":
      return new AwsError("InternalError", "An internal error has occurred", 500);
    case "serviceUnavailable":
      return new AwsError("ServiceUnavailable", "Service Unavailable", 503);
    case "throttle":
      return endpoint?.throttlingError() ?? new AwsError("Throttling", "Rate exceeded", 400);
    case "error":
      return new AwsError(
        fault.code,
        fault.message ?? `Injected fault ${fault.code}`,
        fault.httpStatus ?? 400,
      );
    default:
      throw new Error(`fault ${fault.type} is not an error answer`);
  }
}

/** Answer for a request no simulated service claims (for example DynamoDB without its own endpoint). */
function unknownServiceAnswer(service: string | undefined, requestId: string): Answer {
  const message = service
    ? `The simulator does not serve the '${service}' service (set AWS_ENDPOINT_URL_${service.toUpperCase()} to a server that does)`
    : "Request is not signed with AWS Signature Version 4: cannot tell which service it is for";
  return {
    status: 400,
    headers: { "content-type": "text/xml" },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error><Type>Sender</Type><Code>${service ? "UnknownService" : "MissingAuthenticationToken"}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  };
}

/** The EC2 actions whose handlers ask World.authorizeKms (services/ec2: launch.ts, volumes.ts). */
const USES_KMS_KEYS = new Set(["RunInstances", "CreateVolume", "AttachVolume"]);

export class SimulatorServer {
  private readonly server: Server;
  private readonly endpoints: Map<string, ServiceEndpoint>;
  private seq = 0;

  constructor(private readonly parts: ServerParts) {
    this.endpoints = new Map(parts.endpoints.map((e) => [e.signingName, e]));
    this.server = createServer((request, response) => {
      this.serve(request, response).catch((error: unknown) => {
        // A bug in the simulator: answer 500 so the client sees it instead of hanging.
        const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
        if (!response.headersSent) {
          response.writeHead(500, { "content-type": "text/plain" });
          response.end(`simulator error: ${message}`);
        }
      });
    });
    // The SDK keeps connections alive; let stop() close them.
    this.server.keepAliveTimeout = 5_000;
  }

  listen(port: number, host: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        const address = this.server.address() as AddressInfo;
        resolve(`http://${host}:${address.port}`);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }

  private latencyMs(): number {
    const latency = this.parts.latency;
    if (!latency) return 0;
    const jitter = latency.jitterMs ?? 0;
    return Math.max(0, latency.meanMs + (this.parts.random.next() * 2 - 1) * jitter);
  }

  /** IAM, as AWS applies it before acting: the caller must be known and allowed on every resource. */
  private async authorize(
    record: CallRecord,
    service: string,
    accessKeyId: string | undefined,
  ): Promise<Principal | undefined> {
    const { authorizer, world } = this.parts;
    if (!authorizer) return undefined;
    const caller = authorizer.callerOf(service, accessKeyId);
    const checks = checksFor(world, service, record.action, record.params, caller);
    // An action no service here carries out is answered by its endpoint (InvalidAction and the like).
    if (checks === undefined) return caller;
    record.authorization = "allowed";
    try {
      await authorizer.authorize(record.seq, service, `${service}:${record.action}`, caller, checks);
    } catch (error) {
      record.authorization = "denied";
      throw error;
    }
    return caller;
  }

  /**
   * EC2 uses a customer-managed KMS key on the caller's behalf (a volume from an encrypted snapshot, an attachment,
   * a launch from an encrypted AMI): the caller's own KMS permissions decide, through EC2 (kms:ViaService). For the
   * actions that do so, the decisions are made before the action runs, for every key the account's EBS resources
   * use and any key the request names, and combined with any scenario stub (World.authorizeKms) while it runs.
   */
  private async withKmsDecisions(
    record: CallRecord,
    caller: Principal | undefined,
    execute: () => Answer | Promise<Answer>,
  ): Promise<Answer> {
    const { authorizer, world } = this.parts;
    if (!authorizer || !caller || record.service !== "ec2" || !USES_KMS_KEYS.has(record.action))
      return execute();
    // A key named by its ARN (an alias or a bare id would need KMS's own lookup, which is not modelled).
    const named = record.params.KmsKeyId;
    const requested =
      typeof named === "string" && /^arn:[^:]+:kms:[^:]*:\d{12}:key\//.test(named) ? [named] : [];
    const keys = new Set(
      [...world.volumes.values(), ...world.snapshots.values(), ...world.images.values()]
        .map((resource) => resource.kmsKeyId)
        .concat(requested)
        .filter((key): key is string => key !== undefined),
    );
    const allowed = new Set<string>();
    for (const key of keys) {
      for (const action of EBS_KMS_ACTIONS) {
        const context = {
          "kms:ViaService": `ec2.${world.region}.amazonaws.com`,
          "kms:CallerAccount": world.accountId,
          ...(action === "kms:CreateGrant" ? { "kms:GrantIsForAWSResource": "true" } : {}),
        };
        if ((await authorizer.evaluate(caller, { action, resource: key, context })) === "Allowed")
          allowed.add(`${key} ${action}`);
      }
    }
    const stub = world.authorizeKms;
    world.authorizeKms = (key, actions) =>
      stub(key, actions) && actions.every((a) => allowed.has(`${key} ${a}`));
    try {
      return await execute();
    } finally {
      world.authorizeKms = stub;
    }
  }

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const { clock, faults, throttler, calls } = this.parts;
    const body = await readBody(request);
    const url = new URL(request.url ?? "/", "http://simulator");
    const requestId = randomUUID();
    clock.runDue();
    const service = signingServiceOf(request.headers, url.searchParams);
    const endpoint = service !== undefined ? this.endpoints.get(service) : undefined;
    const call: IncomingCall = {
      method: request.method ?? "GET",
      path: decodeURIComponent(url.pathname),
      query: url.searchParams,
      headers: request.headers,
      body,
      requestId,
    };
    const prepared: PreparedCall | undefined = endpoint?.prepare(call);
    const record: CallRecord = {
      seq: ++this.seq,
      service: service ?? "(unsigned)",
      action: prepared?.action ?? "(unknown)",
      params: prepared?.params ?? {},
      simStart: clock.now(),
      simEnd: clock.now(),
      status: 0,
    };
    calls.push(record);

    const fault = faults.match(record.service, record.action);
    if (fault?.type === "reset") {
      record.errorCode = "ConnectionReset";
      request.socket.destroy();
      return;
    }
    if (fault?.type === "timeout") {
      record.errorCode = "Timeout";
      // Hold the socket open past the client's timeout (wall time: the client's timer is real), then drop it.
      const timer = setTimeout(() => request.socket.destroy(), fault.holdMs ?? 30_000);
      request.socket.once("close", () => clearTimeout(timer));
      return;
    }

    if (!endpoint?.passThrough) await clock.sleep(this.latencyMs());
    clock.runDue();

    let answer: Answer;
    try {
      if (!endpoint || !prepared) {
        answer = unknownServiceAnswer(service, requestId);
        record.errorCode = service ? "UnknownService" : "MissingAuthenticationToken";
      } else {
        if (fault) throw faultError(fault, endpoint);
        const caller = await this.authorize(
          record,
          service ?? "",
          accessKeyOf(request.headers, url.searchParams),
        );
        if (service === "ec2") {
          const decision = throttler.check(
            prepared.action,
            prepared.filteredOrPaginated ?? false,
            prepared.resourceCount ?? 1,
            clock.now(),
          );
          if (!decision.allowed) throw endpoint.throttlingError();
        }
        answer = await this.withKmsDecisions(record, caller, () => prepared.execute());
      }
    } catch (error) {
      if (!(error instanceof AwsError)) throw error;
      record.errorCode = error.code;
      answer = (endpoint ?? this.endpoints.get("ec2"))?.errorAnswer(error, requestId) ?? {
        status: error.httpStatus,
      };
    }
    record.status = answer.status;
    record.simEnd = clock.now();
    response.writeHead(answer.status, { "x-amzn-requestid": requestId, ...answer.headers });
    response.end(answer.body);
  }
}
