import type { GetCommandInvocationCommandOutput } from "@aws-sdk/client-ssm";

import { awsErrorCode, describeError } from "../errors";
import { recordProblem } from "../incidentRecord";
import { describeInstance, tagsOf } from "../instanceDescription";
import { nextLook, type ResponseContext } from "../responseContext";
import { RESPONDER_MADE_FORENSIC, TAG_INCIDENT, TAG_RESPONDER_MADE } from "../tags";
import { evidencePrefix } from "./captureEvidence";
import { done, failed, skipped, waiting, type StepResult } from "./stepResult";
import { readTriageSummary, SUMMARY_MAX_BYTES, type TriageFacts } from "./triageSummary";

/** Where ir-triage uploads (its --upload): incidents/<id>/triage/ in the evidence bucket. */
function triagePrefix(incidentId: string): string {
  return `${evidencePrefix(incidentId)}triage/`;
}

/**
 * How long a workstation that is not (yet) a managed node is waited for: the SSM Agent registers a little after
 * boot, and the workstation may have finished booting only just before the volumes were attached.
 */
const AGENT_REGISTRATION_GRACE_MS = 5 * 60 * 1000;
/** SendCommand's delivery timeout: a command the agent has not picked up by then is never run. */
const DELIVERY_TIMEOUT_SECONDS = 600;
/** bash's exit code for a command that is not there: the workstation's image has no ir-triage. */
const COMMAND_NOT_FOUND = 127;
const UNFINISHED = ["Pending", "InProgress", "Delayed"];

/**
 * Step 8: first-hour triage on the forensic workstation (forensics-ami/scripts/ir-triage through the stack's SSM
 * Command document): sent once the evidence is attached, looked at until it ends or the time bound passes, then its
 * summary.json read from the evidence bucket into the record. Triage never holds the response up and never fails it:
 * what goes wrong is the step's outcome and a problem, and the report comes next either way.
 */
export async function triage(context: ResponseContext): Promise<StepResult> {
  const { record, settings } = context;
  const facts = record.facts;
  if (settings.triageDocument === "") return skipped("triage is off (stack config triage: false)");
  if (settings.dryRun) return skipped("dry run: no evidence attached, nothing to triage");
  const workstation = facts.forensic?.instanceId;
  if (workstation === undefined) return skipped("no forensic workstation");
  const attached = (facts.attachments ?? []).map((attachment) => attachment.volumeId);
  if (attached.length === 0) return skipped("no evidence volumes attached: nothing to triage");

  const sent = facts.triage?.commandId === undefined ? undefined : facts.triage;
  if (sent === undefined) return send(context, workstation, attached);
  return look(context, sent);
}

function fail(context: ResponseContext, reason: string, triage?: Partial<TriageFacts>): StepResult {
  const workstation = context.record.facts.forensic?.instanceId ?? "";
  context.record.facts.triage = { workstation, ...triage, status: "failed", reason };
  recordProblem(context.record.facts, "triage", reason);
  return failed(reason);
}

async function send(context: ResponseContext, workstation: string, attached: string[]): Promise<StepResult> {
  const { record, aws, settings } = context;
  // The document may run only on this incident's workstation: its tags say so, whatever the record says.
  const instance = await describeInstance(aws, workstation);
  if (instance === undefined) return fail(context, `forensic workstation ${workstation} no longer exists`);
  const tags = tagsOf(instance.Tags);
  if (tags[TAG_INCIDENT] !== record.incidentId || tags[TAG_RESPONDER_MADE] !== RESPONDER_MADE_FORENSIC)
    return fail(context, `instance ${workstation} is not tagged as this incident's workstation: not triaged`);
  const onWorkstation = new Set(
    (instance.BlockDeviceMappings ?? []).flatMap((mapping) => mapping.Ebs?.VolumeId ?? []),
  );
  const volumes = attached.filter((volumeId) => onWorkstation.has(volumeId));
  if (volumes.length === 0)
    return fail(context, `none of the attached volumes (${attached.join(", ")}) is on ${workstation} now`);

  let commandId: string | undefined;
  try {
    const answer = await aws.ssm.sendCommand({
      DocumentName: settings.triageDocument,
      InstanceIds: [workstation],
      Parameters: {
        IncidentId: [record.incidentId],
        EvidenceBucket: [settings.evidenceBucket],
        Volumes: [volumes.join(" ")],
        TimelineHours: [String(settings.triageTimelineHours)],
        HashBudgetSeconds: [String(settings.triageHashBudgetSeconds)],
      },
      TimeoutSeconds: DELIVERY_TIMEOUT_SECONDS,
      Comment: `ir-triage ${record.incidentId}`.slice(0, 100),
    });
    commandId = answer.Command?.CommandId;
  } catch (error) {
    const code = awsErrorCode(error);
    if (code === "InvalidInstanceId") {
      // Not a managed node yet (the agent registers after boot), or never (no agent, no route to Systems Manager).
      const launchedAt = Date.parse(instance.LaunchTime?.toISOString() ?? new Date().toISOString());
      const deadline = launchedAt + AGENT_REGISTRATION_GRACE_MS;
      if (Date.now() < deadline)
        return waiting(`${workstation} is not a managed node yet`, nextLook(context, launchedAt, deadline));
      return fail(context, `${workstation} is not a Systems Manager managed node: ${describeError(error)}`);
    }
    if (code === "InvalidDocument" || code === "InvalidParameters" || code?.startsWith("AccessDenied"))
      return fail(context, `Run Command refused the triage: ${describeError(error)}`);
    throw error; // throttled, a server error: the state machine's retry sends it
  }
  if (commandId === undefined) throw new Error("SendCommand answered without a command id");
  record.facts.triage = {
    status: "running",
    workstation,
    commandId,
    sentAt: new Date().toISOString(),
    volumes,
    summaryKey: `${triagePrefix(record.incidentId)}summary.json`,
  };
  // SendCommand has no client token: the id is saved at once, so a retried pass looks instead of sending again.
  await context.checkpoint();
  return waiting(`triage sent to ${workstation} (command ${commandId})`, nextLook(context, Date.now()), {
    commandId,
  });
}

async function look(context: ResponseContext, triage: TriageFacts): Promise<StepResult> {
  const { aws, settings } = context;
  const sentAt = Date.parse(triage.sentAt ?? new Date().toISOString());
  const deadline = sentAt + settings.triageTimeoutSeconds * 1000;
  let status = "Pending";
  let invocation: GetCommandInvocationCommandOutput | undefined;
  try {
    invocation = await aws.ssm.getCommandInvocation({
      CommandId: triage.commandId,
      InstanceId: triage.workstation,
    });
    status = invocation.Status ?? "Pending";
  } catch (error) {
    // Right after SendCommand the invocation may not exist yet (eventual consistency): still pending.
    if (awsErrorCode(error) !== "InvocationDoesNotExist") throw error;
  }
  if (UNFINISHED.includes(status)) {
    if (Date.now() < deadline)
      return waiting(
        `triage ${status.toLowerCase()} on ${triage.workstation}`,
        nextLook(context, sentAt, deadline),
      );
    const where = `s3://${settings.evidenceBucket}/${triagePrefix(context.record.incidentId)}`;
    const reason = `still running after ${settings.triageTimeoutSeconds} s; its results will be in ${where}`;
    context.record.facts.triage = { ...triage, status: "still-running", reason };
    return done(`triage ${reason}`);
  }
  if (status !== "Success") {
    if (invocation?.ResponseCode === COMMAND_NOT_FOUND) {
      const reason = "the workstation's image has no ir-triage (not a triage-capable image)";
      context.record.facts.triage = { ...triage, status: "failed", reason };
      return skipped(reason);
    }
    const stderr = (invocation?.StandardErrorContent ?? "").trim().split("\n").pop()?.slice(0, 200) ?? "";
    return fail(
      context,
      `triage ${status} (${invocation?.StatusDetails ?? "?"}, exit ${invocation?.ResponseCode ?? "?"})${stderr ? `: ${stderr}` : ""}`,
      triage,
    );
  }
  return readSummary(context, triage);
}

async function readSummary(context: ResponseContext, triage: TriageFacts): Promise<StepResult> {
  const { aws, settings, record } = context;
  const key = triage.summaryKey ?? `${triagePrefix(record.incidentId)}summary.json`;
  let body: Uint8Array;
  let checksum: string | undefined;
  try {
    const answer = await aws.s3.getObject({
      Bucket: settings.evidenceBucket,
      Key: key,
      ChecksumMode: "ENABLED",
    });
    if ((answer.ContentLength ?? 0) > SUMMARY_MAX_BYTES) {
      await answer.Body?.transformToByteArray().catch(() => undefined);
      return fail(
        context,
        `summary.json is ${answer.ContentLength} bytes, over ${SUMMARY_MAX_BYTES}: not read`,
        triage,
      );
    }
    body = (await answer.Body?.transformToByteArray()) ?? new Uint8Array();
    checksum = answer.ChecksumSHA256;
  } catch (error) {
    const code = awsErrorCode(error);
    if (code === "NoSuchKey") return fail(context, `triage ended but left no ${key}`, triage);
    if (code === "AccessDenied")
      return fail(context, `summary.json not readable: ${describeError(error)}`, triage);
    // The SDK checks the stored SHA-256 itself (ChecksumMode) and throws on a mismatch.
    if (/checksum/i.test(describeError(error)))
      return fail(context, `summary.json does not match its stored SHA-256: ${describeError(error)}`, triage);
    throw error;
  }
  const summary = readTriageSummary(body, record.incidentId, checksum);
  if (!summary.ok) return fail(context, summary.reason, triage);
  const facts: TriageFacts = { ...triage, ...summary.facts, summaryKey: key };
  record.facts.triage = facts;
  const high = (facts.findings ?? []).filter((finding) => finding.severity === "high").length;
  return done(
    `triage ${facts.status}${facts.simulated ? " (simulated)" : ""}: ${facts.findingCount ?? 0} finding(s), ${high} high in the top ten, ${facts.fileCount ?? 0} file(s)`,
    { summaryKey: key, summarySha256: facts.summarySha256 },
  );
}
