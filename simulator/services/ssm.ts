// AWS Systems Manager Run Command (awsJson1_1: POST /, X-Amz-Target AmazonSSM.<Action>, signing name "ssm"):
// CreateDocument (what Pulumi's aws.ssm.Document calls; testkit's deployment registers the stack's documents
// through it), DescribeDocument, SendCommand and GetCommandInvocation, with the codes and messages of the Systems
// Manager API Reference. A command runs on a managed instance as the simulated program its script names
// (services/ssmPrograms.ts); any other script fails, said so in its output, never a silent success.
import { randomUUID } from "node:crypto";
import { AwsError } from "../errors";
import type { Instance } from "../state/model";
import type { World } from "../state/world";
import type { ServiceEndpoint } from "../wire/http";
import { jsonServiceEndpoint, type JsonHandler } from "../wire/jsonProtocol";
import { runProgram, type ProgramRun, type TriagePlant } from "./ssmPrograms";

const TARGET_PREFIX = "AmazonSSM.";

/**
 * Timings (simulated ms). The agent registers with Systems Manager some time after the OS boots (assumption: 30 s;
 * the Systems Manager User Guide only says a node shows as managed once the agent has registered). A command is
 * Pending until the agent polls for it (assumption: 2 s). GetCommandInvocation may answer InvocationDoesNotExist
 * right after SendCommand (API Reference, GetCommandInvocation: "the invocation might not be available yet"):
 * modelled for 1 s.
 */
export const SSM_TIMINGS = { agentRegistrationMs: 30_000, deliveryMs: 2_000, invocationVisibleMs: 1_000 };

interface DocumentParameter {
  type?: string;
  default?: string | number | boolean;
  allowedPattern?: string;
}

export interface SsmDocument {
  name: string;
  arn: string;
  content: string;
  parameters: Record<string, DocumentParameter>;
  /** The aws:runShellScript commands, joined, and its timeoutSeconds (the execution timeout, default 3600). */
  script: string;
  executionTimeoutSeconds: number;
  createdDate: number;
  tags: [string, string][];
}

type InvocationStatus = "Pending" | "InProgress" | "Success" | "Failed" | "TimedOut" | "Cancelled";

export interface SsmInvocation {
  commandId: string;
  instanceId: string;
  documentName: string;
  comment: string;
  parameters: Record<string, string[]>;
  requestedAt: number;
  visibleAt: number;
  status: InvocationStatus;
  statusDetails: string;
  responseCode: number;
  stdout: string;
  stderr: string;
  startedAt?: number;
  endedAt?: number;
}

function validation(message: string): AwsError {
  return new AwsError("ValidationException", message);
}

function parseDocument(name: string, content: string, arn: string, now: number): SsmDocument {
  let parsed: {
    schemaVersion?: unknown;
    parameters?: Record<string, DocumentParameter>;
    mainSteps?: { action?: string; inputs?: { runCommand?: string[]; timeoutSeconds?: unknown } }[];
  };
  try {
    parsed = JSON.parse(content) as typeof parsed;
  } catch {
    throw new AwsError("InvalidDocumentContent", "The content for the document is not valid.");
  }
  if (parsed.schemaVersion !== "2.2")
    throw new AwsError(
      "InvalidDocumentSchemaVersion",
      `Document schema version, ${String(parsed.schemaVersion)}, is not supported by the simulator (2.2 only).`,
    );
  const steps = parsed.mainSteps ?? [];
  const shell = steps.filter((step) => step.action === "aws:runShellScript");
  if (steps.length === 0 || shell.length !== steps.length)
    throw new AwsError("InvalidDocumentContent", "mainSteps must hold aws:runShellScript steps only.");
  return {
    name,
    arn,
    content,
    parameters: parsed.parameters ?? {},
    script: shell.flatMap((step) => step.inputs?.runCommand ?? []).join("\n"),
    executionTimeoutSeconds: Number(shell[0]?.inputs?.timeoutSeconds ?? 3600),
    createdDate: now,
    tags: [],
  };
}

/** Run Command's state: documents, invocations, which images run the agent, what a triage finds. */
export class Ssm {
  readonly documents = new Map<string, SsmDocument>();
  readonly invocations = new Map<string, SsmInvocation>();
  /** Images whose instances run the SSM Agent, with the programs installed on them (absolute paths). */
  readonly agentImages = new Map<string, { programs: string[] }>();
  /** What a triage finds on a volume (by the id of the volume the evidence came from). */
  readonly plants = new Map<string, TriagePlant[]>();

  constructor(private readonly world: World) {}

  documentArn(name: string): string {
    return `arn:aws:ssm:${this.world.region}:${this.world.accountId}:document/${name}`;
  }

  createDocument(params: Record<string, unknown>): SsmDocument {
    const name = typeof params.Name === "string" ? params.Name : "";
    if (!/^[a-zA-Z0-9_.-]{3,128}$/.test(name))
      throw validation(`1 validation error detected: Value '${name}' at 'name' failed to satisfy constraint`);
    if ((params.DocumentType ?? "Command") !== "Command")
      throw new AwsError("InvalidDocumentType", "The simulator holds Command documents only.");
    if (this.documents.has(name))
      throw new AwsError("DocumentAlreadyExists", "The specified document already exists.");
    const content = typeof params.Content === "string" ? params.Content : "";
    const document = parseDocument(name, content, this.documentArn(name), this.world.now());
    this.documents.set(name, document);
    return document;
  }

  /** Whether the instance is a managed node now: agent image, running, registered, an instance profile. */
  managed(instance: Instance): boolean {
    const registeredAt =
      instance.launchTime + this.world.durations.instancePendingMs + SSM_TIMINGS.agentRegistrationMs;
    return (
      this.agentImages.has(instance.imageId) &&
      instance.state === "running" &&
      this.world.now() >= registeredAt &&
      this.world.iamAssociationFor(instance.instanceId) !== undefined
    );
  }

  sendCommand(params: Record<string, unknown>): string {
    const name = typeof params.DocumentName === "string" ? params.DocumentName.split("/").pop()! : "";
    const document = this.documents.get(name);
    if (!document) throw new AwsError("InvalidDocument", `Document with name ${name} does not exist.`);
    const instanceIds = Array.isArray(params.InstanceIds) ? (params.InstanceIds as string[]) : [];
    if (instanceIds.length === 0 || instanceIds.length > 50)
      throw validation("InstanceIds must name 1 to 50 instances (the simulator does not serve Targets).");
    const unmanaged = instanceIds.filter((id) => {
      const instance = this.world.instances.get(id);
      return instance === undefined || !this.managed(instance);
    });
    if (unmanaged.length > 0)
      throw new AwsError(
        "InvalidInstanceId",
        `Instances [[${unmanaged.join(", ")}]] not in a valid state for account ${this.world.accountId}`,
      );
    const parameters = this.checkParameters(document, params.Parameters);
    const timeoutSeconds = Number(params.TimeoutSeconds ?? 3600);
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 30 || timeoutSeconds > 2_592_000)
      throw validation("TimeoutSeconds must be an integer from 30 to 2592000.");
    const comment = typeof params.Comment === "string" ? params.Comment : "";
    if (comment.length > 100) throw validation("Comment must be at most 100 characters.");
    const commandId = randomUUID();
    const now = this.world.now();
    for (const instanceId of instanceIds) {
      const invocation: SsmInvocation = {
        commandId,
        instanceId,
        documentName: name,
        comment,
        parameters,
        requestedAt: now,
        visibleAt: now + SSM_TIMINGS.invocationVisibleMs,
        status: "Pending",
        statusDetails: "Pending",
        responseCode: -1,
        stdout: "",
        stderr: "",
      };
      this.invocations.set(`${commandId}/${instanceId}`, invocation);
      this.world.clock.schedule(SSM_TIMINGS.deliveryMs, () => this.start(invocation, document));
    }
    return commandId;
  }

  private checkParameters(document: SsmDocument, given: unknown): Record<string, string[]> {
    const values = (given && typeof given === "object" ? given : {}) as Record<string, unknown>;
    for (const key of Object.keys(values)) {
      if (!(key in document.parameters))
        throw new AwsError("InvalidParameters", `Parameter "${key}" is not defined in the document.`);
    }
    const result: Record<string, string[]> = {};
    for (const [key, declared] of Object.entries(document.parameters)) {
      const value = values[key];
      const list = Array.isArray(value)
        ? value.map(String)
        : declared.default === undefined
          ? undefined
          : [String(declared.default)];
      if (list === undefined)
        throw new AwsError("InvalidParameters", `Parameters [${key}] are required but not provided.`);
      const pattern = declared.allowedPattern ? new RegExp(declared.allowedPattern) : undefined;
      if (pattern && list.some((item) => !pattern.test(item)))
        throw new AwsError(
          "InvalidParameters",
          `Parameter "${key}" "${list.join(",")}" failed to satisfy constraint: does not match ${declared.allowedPattern}`,
        );
      result[key] = list;
    }
    return result;
  }

  private start(invocation: SsmInvocation, document: SsmDocument): void {
    const instance = this.world.instances.get(invocation.instanceId);
    if (!instance || !this.managed(instance)) {
      this.end(invocation, "Failed", "Undeliverable", -1, "", "the instance is no longer a managed node");
      return;
    }
    invocation.status = "InProgress";
    invocation.statusDetails = "InProgress";
    invocation.startedAt = this.world.now();
    const programs = this.agentImages.get(instance.imageId)?.programs ?? [];
    const run: ProgramRun = runProgram(this.world, this, instance, document.script, programs, invocation);
    const limitMs = document.executionTimeoutSeconds * 1000;
    if (run.durationMs > limitMs) {
      this.world.clock.schedule(limitMs, () =>
        this.end(invocation, "TimedOut", "ExecutionTimedOut", -1, run.stdout, "execution timed out"),
      );
      return;
    }
    this.world.clock.schedule(run.durationMs, () => {
      run.complete();
      const status = run.exitCode === 0 ? "Success" : "Failed";
      this.end(invocation, status, status, run.exitCode, run.stdout, run.stderr);
    });
  }

  private end(
    invocation: SsmInvocation,
    status: InvocationStatus,
    details: string,
    code: number,
    stdout: string,
    stderr: string,
  ): void {
    if (invocation.endedAt !== undefined) return;
    Object.assign(invocation, { status, statusDetails: details, responseCode: code, stdout, stderr });
    invocation.endedAt = this.world.now();
  }

  getCommandInvocation(params: Record<string, unknown>): Record<string, unknown> {
    const key = `${String(params.CommandId)}/${String(params.InstanceId)}`;
    const invocation = this.invocations.get(key);
    if (!invocation || invocation.visibleAt > this.world.now())
      throw new AwsError("InvocationDoesNotExist", "An error occurred (InvocationDoesNotExist)");
    const seconds = (ms: number | undefined) => (ms === undefined ? "" : new Date(ms).toISOString());
    return {
      CommandId: invocation.commandId,
      InstanceId: invocation.instanceId,
      Comment: invocation.comment,
      DocumentName: invocation.documentName,
      PluginName: "runShellScript",
      ResponseCode: invocation.responseCode,
      ExecutionStartDateTime: seconds(invocation.startedAt),
      ExecutionEndDateTime: seconds(invocation.endedAt),
      Status: invocation.status,
      StatusDetails: invocation.statusDetails,
      // The API keeps the first 24,000 characters of each stream.
      StandardOutputContent: invocation.stdout.slice(0, 24_000),
      StandardErrorContent: invocation.stderr.slice(0, 24_000),
    };
  }
}

export function ssmEndpoint(ssm: Ssm): ServiceEndpoint {
  const describe = (document: SsmDocument) => ({
    Name: document.name,
    DocumentType: "Command",
    DocumentFormat: "JSON",
    SchemaVersion: "2.2",
    Status: "Active",
    DocumentVersion: "1",
    CreatedDate: document.createdDate / 1000,
    Parameters: Object.entries(document.parameters).map(([Name, p]) => ({
      Name,
      Type: p.type ?? "String",
      ...(p.default === undefined ? {} : { DefaultValue: String(p.default) }),
    })),
  });
  const handlers: Record<string, JsonHandler> = {
    CreateDocument: (params) => ({ DocumentDescription: describe(ssm.createDocument(params)) }),
    DescribeDocument: (params) => {
      const document = ssm.documents.get(String(params.Name));
      if (!document)
        throw new AwsError("InvalidDocument", `Document with name ${String(params.Name)} does not exist.`);
      return { Document: describe(document) };
    },
    SendCommand: (params) => {
      const commandId = ssm.sendCommand(params);
      return {
        Command: {
          CommandId: commandId,
          DocumentName: params.DocumentName,
          InstanceIds: params.InstanceIds,
          Status: "Pending",
        },
      };
    },
    GetCommandInvocation: (params) => ssm.getCommandInvocation(params),
  };
  return jsonServiceEndpoint({ signingName: "ssm", version: "1.1", targetPrefix: TARGET_PREFIX, handlers });
}
