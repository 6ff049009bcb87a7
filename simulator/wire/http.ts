// What a service endpoint sees of a request and answers, independent of the protocol.
import type { IncomingHttpHeaders } from "node:http";
import type { AwsError } from "../errors";

export interface IncomingCall {
  method: string;
  /** Decoded path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  requestId: string;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** A request the endpoint understood enough to name: its action, logged params, and the work to do. */
export interface PreparedCall {
  action: string;
  params: Record<string, unknown>;
  /** EC2 throttling: whether the call used a filter or pagination, and how many resources it acts on. */
  filteredOrPaginated?: boolean;
  resourceCount?: number;
  execute(): Answer | Promise<Answer>;
}

export interface ServiceEndpoint {
  /** SigV4 signing name that routes requests here (the credential scope's service). */
  readonly signingName: string;
  prepare(call: IncomingCall): PreparedCall;
  errorAnswer(error: AwsError, requestId: string): Answer;
  /** The service's throttling error, for an injected "throttle" fault. */
  throttlingError(): AwsError;
  /**
   * Requests are passed to a real server (DynamoDB to dynalite), whose own time is their latency: the latency
   * model does not add to it.
   */
  readonly passThrough?: boolean;
}
