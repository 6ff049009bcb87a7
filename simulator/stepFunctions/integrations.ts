// The service calls a Task makes, as Step Functions makes them: with the state machine's role, through the service's
// own API. Here that API is the simulator's HTTP front, so each call is authorized against the role's policies, can
// meet injected faults and latency, and appears in the call log like any other request.
//
// Results and errors take the optimized integrations' shapes (Step Functions Developer Guide, "Invoke an AWS Lambda
// function with Step Functions", "Publish messages to an Amazon SNS topic with Step Functions", "Handling errors in
// Step Functions workflows"):
// - lambda:invoke answers { ExecutedVersion, Payload, SdkHttpMetadata, SdkResponseMetadata, StatusCode }; a function
//   error fails the Task with Error = the function's errorType and Cause = Lambda's error payload; a payload without
//   an errorType is Lambda.Unknown; a refused call is Lambda.<modelled exception> (Lambda.ServiceException,
//   Lambda.TooManyRequestsException, Lambda.ResourceNotFoundException...), or Lambda.AWSLambdaException for an error
//   Lambda's API model does not name (AccessDeniedException), with the cause "<message> (Service: AWSLambda; Status
//   Code: 403; Error Code: AccessDeniedException; Request ID: ...; Proxy: null)" as AWS reports it; a call that got
//   no answer is Lambda.SdkClientException.
// - sns:publish answers { MessageId, SdkHttpMetadata, SdkResponseMetadata }; a refusal is SNS.<code>Exception
//   (SNS.AuthorizationErrorException, SNS.NotFoundException...) with "(Service: AmazonSNS; ...)".
import * as lambdaApi from "@aws-sdk/client-lambda";
import {
  InvokeCommand,
  LambdaClient,
  type InvocationType,
  type InvokeCommandOutput,
} from "@aws-sdk/client-lambda";
import { PublishCommand, SNSClient, type MessageAttributeValue } from "@aws-sdk/client-sns";
import type { Json, JsonObject } from "./definition";

export type TaskOutcome =
  | { ok: true; output: Json }
  /** `runtime`: States.Runtime, which no Retry or Catch handles. */
  | { ok: false; error: string; cause: string; runtime?: boolean };

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface IntegrationDeps {
  /** The simulator's endpoint (known once it listens). */
  endpoint(): string;
  region: string;
  /** Simulated epoch ms, for the Date header of SdkHttpMetadata. */
  now(): number;
  /** The credentials of the identity Step Functions acts as for a role (see simulator.ts). */
  credentialsFor(roleArn: string): Credentials;
}

const isObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

interface ServiceFailure {
  name?: string;
  message?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number; requestId?: string };
}

/** Lambda's modelled exceptions (the SDK's error classes): reported as Lambda.<name>. */
const LAMBDA_EXCEPTIONS = new Set(
  Object.keys(lambdaApi).filter((name) => name.endsWith("Exception") && name !== "LambdaServiceException"),
);

function httpMetadata(requestId: string, now: number, headers: Record<string, string>): JsonObject {
  const all: Record<string, string> = {
    "Content-Type": "application/json",
    Date: new Date(now).toUTCString(),
    "x-amzn-RequestId": requestId,
    ...headers,
  };
  return {
    SdkHttpMetadata: {
      AllHttpHeaders: Object.fromEntries(Object.entries(all).map(([name, value]) => [name, [value]])),
      HttpHeaders: all,
      HttpStatusCode: 200,
    },
    SdkResponseMetadata: { RequestId: requestId },
  };
}

/** A refused or unanswered call, as the integration reports it. */
function callFailure(error: unknown, service: "Lambda" | "SNS"): TaskOutcome {
  const failure = (typeof error === "object" && error !== null ? error : {}) as ServiceFailure;
  const status = failure.$metadata?.httpStatusCode;
  const message = failure.message ?? String(error);
  if (status === undefined) {
    return {
      ok: false,
      error: `${service}.SdkClientException`,
      cause: `Unable to execute HTTP request: ${message}`,
    };
  }
  const name = failure.name ?? "Exception";
  const code = failure.Code ?? name;
  const details = [
    `Service: ${service === "Lambda" ? "AWSLambda" : "AmazonSNS"}`,
    `Status Code: ${status}`,
    `Error Code: ${code}`,
    `Request ID: ${failure.$metadata?.requestId ?? ""}`,
    "Proxy: null",
  ].join("; ");
  const errorName =
    service === "Lambda"
      ? LAMBDA_EXCEPTIONS.has(name)
        ? `Lambda.${name}`
        : "Lambda.AWSLambdaException"
      : `SNS.${name.endsWith("Exception") ? name : `${name}Exception`}`;
  return { ok: false, error: errorName, cause: `${message} (${details})` };
}

const runtime = (cause: string): TaskOutcome => ({
  ok: false,
  error: "States.Runtime",
  cause,
  runtime: true,
});

/** A Lambda payload as the integration sends it: JSON text as given, anything else as JSON. */
function payloadBytes(payload: Json | undefined): Uint8Array {
  if (payload === undefined || payload === null) return Buffer.from("{}");
  if (typeof payload === "string") {
    try {
      JSON.parse(payload);
      return Buffer.from(payload);
    } catch {
      return Buffer.from(JSON.stringify(payload));
    }
  }
  return Buffer.from(JSON.stringify(payload));
}

/** A function's answer: JSON when it is JSON, else the text. */
function decodePayload(bytes: Uint8Array | undefined): { text: string; value: Json } {
  const text = bytes === undefined ? "" : Buffer.from(bytes).toString("utf8");
  try {
    return { text, value: JSON.parse(text) as Json };
  } catch {
    return { text, value: text };
  }
}

const optional = <T>(key: string, value: T | undefined): Record<string, T> =>
  value === undefined ? {} : { [key]: value };

/** Lambda's default concurrent executions per account and Region (Lambda Developer Guide, "Lambda quotas"). */
const LAMBDA_CONCURRENCY_QUOTA = 1000;

export class Integrations {
  private readonly lambdaClients = new Map<string, LambdaClient>();
  private readonly snsClients = new Map<string, SNSClient>();

  constructor(private readonly deps: IntegrationDeps) {}

  private config(roleArn: string) {
    const credentials = this.deps.credentialsFor(roleArn);
    // Step Functions makes one call per attempt: retries are the state's Retry, not the SDK's. It has no cap of
    // its own on Tasks in flight; the SDK's default of 50 sockets would queue the rest (a burst's Tasks then wait
    // for slow ones): Lambda's default concurrency quota, 1,000, stands instead.
    return {
      key: credentials.accessKeyId,
      config: {
        endpoint: this.deps.endpoint(),
        region: this.deps.region,
        credentials,
        maxAttempts: 1,
        requestHandler: { httpAgent: { maxSockets: LAMBDA_CONCURRENCY_QUOTA } },
      },
    };
  }

  private lambda(roleArn: string): LambdaClient {
    const { key, config } = this.config(roleArn);
    let client = this.lambdaClients.get(key);
    if (!client) this.lambdaClients.set(key, (client = new LambdaClient(config)));
    return client;
  }

  private sns(roleArn: string): SNSClient {
    const { key, config } = this.config(roleArn);
    let client = this.snsClients.get(key);
    if (!client) this.snsClients.set(key, (client = new SNSClient(config)));
    return client;
  }

  /**
   * One Invoke as the role. `optimized`: the lambda:invoke integration's answer (the Payload inside the SDK's
   * metadata); otherwise a Lambda function ARN as the Task's Resource, whose output is the function's payload.
   */
  async invoke(
    roleArn: string,
    request: {
      FunctionName: string;
      Payload?: Json;
      InvocationType?: string;
      Qualifier?: string;
      ClientContext?: string;
      LogType?: string;
    },
    optimized: boolean,
    signal: AbortSignal,
  ): Promise<TaskOutcome> {
    let response: InvokeCommandOutput;
    try {
      response = await this.lambda(roleArn).send(
        new InvokeCommand({
          FunctionName: request.FunctionName,
          Payload: payloadBytes(request.Payload),
          ...optional("InvocationType", request.InvocationType as InvocationType | undefined),
          ...optional("Qualifier", request.Qualifier),
          ...optional("ClientContext", request.ClientContext),
          ...optional("LogType", request.LogType as lambdaApi.LogType | undefined),
        }),
        { abortSignal: signal },
      );
    } catch (error) {
      return callFailure(error, "Lambda");
    }
    const payload = decodePayload(response.Payload);
    if (response.FunctionError) {
      const errorType = isObject(payload.value) ? payload.value.errorType : undefined;
      return typeof errorType === "string" && errorType !== ""
        ? { ok: false, error: errorType, cause: payload.text }
        : {
            ok: false,
            error: "Lambda.Unknown",
            cause: `The cause could not be determined because Lambda did not return an error type. Returned payload: ${payload.text}`,
          };
    }
    if (!optimized) return { ok: true, output: payload.value };
    const requestId = response.$metadata.requestId ?? "";
    const version = response.ExecutedVersion;
    return {
      ok: true,
      output: {
        ...optional("ExecutedVersion", version),
        Payload: payload.value,
        ...httpMetadata(requestId, this.deps.now(), {
          "Content-Length": String(payload.text.length),
          ...optional("X-Amz-Executed-Version", version),
        }),
        StatusCode: response.StatusCode ?? 200,
      },
    };
  }

  /** The lambda:invoke integration: its Parameters as the Task resolved them. */
  lambdaInvoke(roleArn: string, parameters: Json, signal: AbortSignal): Promise<TaskOutcome> {
    if (!isObject(parameters) || typeof parameters.FunctionName !== "string") {
      return Promise.resolve(runtime("The field 'FunctionName' is required and must be a string"));
    }
    const text = (key: string): string | undefined => {
      const value = parameters[key];
      return typeof value === "string" ? value : undefined;
    };
    return this.invoke(
      roleArn,
      {
        FunctionName: parameters.FunctionName,
        ...optional("Payload", parameters.Payload),
        ...optional("InvocationType", text("InvocationType")),
        ...optional("Qualifier", text("Qualifier")),
        ...optional("ClientContext", text("ClientContext")),
        ...optional("LogType", text("LogType")),
      },
      true,
      signal,
    );
  }

  /** The sns:publish integration. A Message that is not a string is sent as its JSON text. */
  async snsPublish(roleArn: string, parameters: Json, signal: AbortSignal): Promise<TaskOutcome> {
    if (!isObject(parameters) || parameters.Message === undefined) {
      return runtime("The field 'Message' is required");
    }
    const text = (key: string): string | undefined => {
      const value = parameters[key];
      return typeof value === "string" ? value : undefined;
    };
    const message =
      typeof parameters.Message === "string" ? parameters.Message : JSON.stringify(parameters.Message);
    let response;
    try {
      response = await this.sns(roleArn).send(
        new PublishCommand({
          Message: message,
          ...optional("TopicArn", text("TopicArn")),
          ...optional("TargetArn", text("TargetArn")),
          ...optional("PhoneNumber", text("PhoneNumber")),
          ...optional("Subject", text("Subject")),
          ...optional("MessageStructure", text("MessageStructure")),
          ...optional("MessageDeduplicationId", text("MessageDeduplicationId")),
          ...optional("MessageGroupId", text("MessageGroupId")),
          ...(isObject(parameters.MessageAttributes)
            ? {
                MessageAttributes: parameters.MessageAttributes as unknown as Record<
                  string,
                  MessageAttributeValue
                >,
              }
            : {}),
        }),
        { abortSignal: signal },
      );
    } catch (error) {
      return callFailure(error, "SNS");
    }
    return {
      ok: true,
      output: {
        MessageId: response.MessageId ?? "",
        ...optional("SequenceNumber", response.SequenceNumber),
        ...httpMetadata(response.$metadata.requestId ?? "", this.deps.now(), { "Content-Type": "text/xml" }),
      },
    };
  }

  /** Closes every client's connections (the simulator is stopping). */
  close(): void {
    for (const client of [...this.lambdaClients.values(), ...this.snsClients.values()]) client.destroy();
    this.lambdaClients.clear();
    this.snsClients.clear();
  }
}
