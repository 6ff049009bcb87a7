import { awsErrorCode, describeError, failureOutcome, isResponderError } from "../errors";
import { type IncidentRecord, type InstanceFacts, recordedInstance } from "../incidentRecord";
import { describeInstance, tagsOf } from "../instanceDescription";
import { ec2Mutation, nextLook, type ResponseContext } from "../responseContext";
import { retrying } from "../retry";
import type { Settings } from "../settings";
import { TAG_KDUMP_READY, TRUE_VALUE } from "../tags";
import { done, failed, skipped, waiting, type StepResult } from "./stepResult";

/** What DescribeInstanceTypes and DescribeImages said, reduced to what the decision needs. */
export interface MemoryCaptureInputs {
  readonly state: string;
  readonly architectures: readonly string[];
  /** DescribeInstanceTypes' Hypervisor: "nitro" or "xen"; none on bare metal. */
  readonly hypervisor?: string;
  /** DescribeInstanceTypes' BareMetal: Nitro hardware without a hypervisor. */
  readonly bareMetal?: boolean;
  readonly instanceType?: string;
  readonly memoryMiB?: number;
  readonly kdumpReady: boolean;
  readonly hibernationConfigured: boolean;
  readonly rootDeviceType: string;
  /** False when an OS power-off would terminate the instance (shutdown behaviour not "stop"). */
  readonly powerOffStops: boolean;
}

export type MemoryCapturePlan =
  | { readonly method: "nmi"; readonly graceMs: number; readonly reason: string }
  | { readonly method: "hibernate"; readonly reason: string }
  | { readonly method: "none"; readonly reason: string };

/** Grace for the kdump power-off: base + per GiB of memory (pure). Dump time grows with memory size. */
export function memoryGraceMs(
  memoryMiB: number | undefined,
  settings: Pick<Settings, "memoryGraceBaseSeconds" | "memoryGraceSecondsPerGib">,
): number {
  const gib = (memoryMiB ?? 0) / 1024;
  return Math.round((settings.memoryGraceBaseSeconds + settings.memoryGraceSecondsPerGib * gib) * 1000);
}

/** The A1 family, the one Nitro-based family without the diagnostic interrupt (pure). */
function isA1(instanceType: string): boolean {
  return instanceType.startsWith("a1.");
}

/**
 * How to capture memory (pure). EC2 offers the diagnostic interrupt "on all Nitro-based instance types, except
 * A1" (EC2 User Guide, "Send a diagnostic interrupt"): virtualized Nitro (Hypervisor "nitro"), bare metal (no
 * Hypervisor, BareMetal true) and Graviton alike; not Xen. It is useful only when the kernel has kdump loaded
 * (the ir:kdump-ready tag says so; on Graviton the interrupt is not an NMI, and the tag is the operator's word
 * that kdump catches it); kdump powers the instance off afterwards, which needs an EBS root (shutdown behaviour
 * stop, set by cutAccess). Otherwise hibernation, where the instance was launched with it, writes RAM to the
 * root volume. Otherwise no memory capture, and the record says why.
 */
export function planMemoryCapture(
  inputs: MemoryCaptureInputs,
  settings: Pick<Settings, "memoryGraceBaseSeconds" | "memoryGraceSecondsPerGib">,
): MemoryCapturePlan {
  if (inputs.state !== "running")
    return { method: "none", reason: `instance is ${inputs.state}: no memory to capture` };
  const reasons: string[] = [];
  const nitroBased = inputs.hypervisor === "nitro" || inputs.bareMetal === true;
  if (!inputs.architectures.includes("x86_64") && !inputs.architectures.includes("arm64"))
    reasons.push(`no diagnostic interrupt on ${inputs.architectures.join("/") || "unknown"} architecture`);
  else if (inputs.instanceType !== undefined && isA1(inputs.instanceType))
    reasons.push(
      `no diagnostic interrupt on A1 (${inputs.instanceType}): EC2 offers it on every Nitro-based type except A1`,
    );
  else if (!nitroBased) reasons.push(`no NMI on ${inputs.hypervisor ?? "unknown"} hypervisor`);
  else if (!inputs.kdumpReady)
    reasons.push(`not kdump-ready (no ${TAG_KDUMP_READY}=true on the instance or its AMI)`);
  else if (inputs.rootDeviceType !== "ebs")
    reasons.push("instance-store root: a kdump power-off would terminate it");
  else if (!inputs.powerOffStops)
    reasons.push("shutdown behaviour is not stop (one-time Spot): a kdump power-off would terminate it");
  if (reasons.length === 0) {
    return { method: "nmi", graceMs: memoryGraceMs(inputs.memoryMiB, settings), reason: "NMI to kdump" };
  }
  if (inputs.hibernationConfigured && inputs.rootDeviceType === "ebs") {
    return { method: "hibernate", reason: `${reasons.join("; ")}: hibernating (RAM to the root volume)` };
  }
  return { method: "none", reason: `${reasons.join("; ")}; hibernation not configured` };
}

async function gatherInputs(context: ResponseContext, instance: InstanceFacts): Promise<MemoryCaptureInputs> {
  const { ec2 } = context.aws;
  const [live, types, images] = await Promise.all([
    describeInstance(context.aws, context.record.instanceId),
    ec2.describeInstanceTypes({ InstanceTypes: [instance.instanceType as never] }),
    instance.imageId === undefined || instance.tags[TAG_KDUMP_READY] === TRUE_VALUE
      ? Promise.resolve(undefined)
      : ec2.describeImages({ ImageIds: [instance.imageId] }).catch((error: unknown) => {
          // A deregistered AMI cannot vouch for kdump: treat as not ready rather than fail the capture.
          if (awsErrorCode(error)?.startsWith("InvalidAMIID") === true) return undefined;
          throw error;
        }),
  ]);
  const type = types.InstanceTypes?.[0];
  const imageTags = tagsOf(images?.Images?.[0]?.Tags);
  const liveTags = tagsOf(live?.Tags);
  return {
    state: live?.State?.Name ?? "terminated",
    architectures: type?.ProcessorInfo?.SupportedArchitectures ?? [],
    hypervisor: type?.Hypervisor,
    bareMetal: type?.BareMetal,
    instanceType: instance.instanceType,
    memoryMiB: type?.MemoryInfo?.SizeInMiB,
    kdumpReady: [
      instance.tags[TAG_KDUMP_READY],
      liveTags[TAG_KDUMP_READY],
      imageTags[TAG_KDUMP_READY],
    ].includes(TRUE_VALUE),
    hibernationConfigured: instance.hibernationConfigured,
    rootDeviceType: instance.rootDeviceType,
    powerOffStops: context.record.facts.shutdownBehaviorStop !== false,
  };
}

/**
 * Why nothing may power the instance off (pure): access cutting failed for good, so the instance may still be in
 * its Auto Scaling group (which terminates a stopped member, volumes included) or keep a shutdown behaviour that
 * terminates. The snapshots still run, crash-consistent, on the running, isolated instance.
 */
export function accessNotCut(record: Pick<IncidentRecord, "steps">): string | undefined {
  return record.steps.cutAccess?.status === "failed"
    ? "access cutting failed: the instance is not powered off (Auto Scaling or its shutdown behaviour could terminate it)"
    : undefined;
}

const POWERED_OFF = ["stopping", "stopped", "shutting-down", "terminated"];

/** Throttled NMI requests asked again (EC2 refused them before acting: nothing was sent to the instance). */
const NMI_THROTTLE_RETRIES = 4;

/**
 * Sends the diagnostic interrupt at most once. It has no client token and a second interrupt would hit kdump
 * while it writes, so it goes through the client without SDK retries: throttling (EC2 did nothing) is asked
 * again after a pause; a refusal (4xx) propagates; anything whose effect is unknown (5xx, timeout, reset, lost
 * answer) is never sent again and returns its description: the wait for kdump's power-off decides.
 */
async function sendDiagnosticInterruptOnce(
  context: ResponseContext,
  InstanceId: string,
): Promise<string | undefined> {
  const outcomeOf = (error: unknown) => (isResponderError(error) ? "ours" : failureOutcome(error));
  return retrying(
    async () => {
      try {
        await context.aws.ec2SingleAttempt.sendDiagnosticInterrupt({ InstanceId });
        return undefined;
      } catch (error) {
        // 5xx, timeout, lost answer: it may have reached the instance, so it is never sent again.
        if (outcomeOf(error) === "unknown") return describeError(error);
        throw error;
      }
    },
    {
      retries: NMI_THROTTLE_RETRIES,
      retryable: (error) => outcomeOf(error) === "throttled",
      firstDelayMs: 500,
      onRetry: (_error, attempt) =>
        context.logger.warn("SendDiagnosticInterrupt throttled; asking again", { attempt }),
    },
  );
}

/**
 * Step 4b: memory. A failed capture is recorded (status failed) and the response goes on: losing memory must
 * not cost the disks. The wait after the NMI polls for the kdump power-off and ends at the grace at the latest.
 */
export async function captureMemory(context: ResponseContext): Promise<StepResult> {
  const { record, aws } = context;
  const instance = recordedInstance(record);
  const InstanceId = record.instanceId;
  try {
    let memory = record.facts.memory;
    if (memory?.sentAt === undefined) {
      const held = accessNotCut(record);
      if (held !== undefined) {
        record.facts.memory = { method: "none", reason: held };
        return skipped(held);
      }
      const inputs = await gatherInputs(context, instance);
      const plan = planMemoryCapture(inputs, context.settings);
      if (plan.method === "none") {
        record.facts.memory = { method: "none", reason: plan.reason };
        return skipped(plan.reason);
      }
      if (plan.method === "hibernate") {
        const sent = await ec2Mutation(context, "hibernate the instance", (DryRun) =>
          aws.ec2.stopInstances({ DryRun, InstanceIds: [InstanceId], Hibernate: true }),
        );
        // The stop step waits for "stopped" from sentAt on: hibernation is a stop that first writes RAM to the
        // root volume.
        record.facts.memory = { method: "hibernate", reason: plan.reason, sentAt: new Date().toISOString() };
        return done(sent.made ? "hibernation started" : "would hibernate", { reason: plan.reason });
      }
      if (context.settings.dryRun) {
        await ec2Mutation(context, "send the diagnostic interrupt (NMI)", (DryRun) =>
          aws.ec2.sendDiagnosticInterrupt({ DryRun, InstanceId }),
        );
        record.facts.memory = { method: "nmi", reason: plan.reason };
        return done("would send NMI for a kdump", { graceMs: plan.graceMs });
      }
      // Recorded before it is sent: a response resumed after a crash must wait for the dump, never interrupt
      // it with a second NMI (at most once: a crash right before the call costs the memory, not the dump).
      memory = {
        method: "nmi",
        reason: plan.reason,
        sentAt: new Date().toISOString(),
        graceMs: plan.graceMs,
      };
      record.facts.memory = memory;
      await context.checkpoint();
      const unknown = await sendDiagnosticInterruptOnce(context, InstanceId);
      if (unknown !== undefined) {
        memory = {
          ...memory,
          reason: `${memory.reason}; NMI outcome unknown (${unknown}): not sent again, the power-off decides`,
        };
        record.facts.memory = memory;
      }
    }
    if (memory.method !== "nmi") return done(`memory: ${memory.method}`);
    const graceMs = memory.graceMs ?? 0;
    const deadline = Date.parse(memory.sentAt ?? new Date().toISOString()) + graceMs;
    const state = (await describeInstance(aws, InstanceId))?.State?.Name ?? "terminated";
    if (POWERED_OFF.includes(state)) {
      record.facts.memory = { ...memory, poweredOff: true };
      return done(`NMI sent; kdump powered the instance off (${state})`, { graceMs });
    }
    if (Date.now() < deadline) {
      return waiting(
        `NMI sent; waiting for kdump's power-off (${state})`,
        nextLook(context, Date.parse(memory.sentAt ?? ""), deadline),
      );
    }
    record.facts.memory = { ...memory, poweredOff: false };
    return done(
      `NMI sent; no power-off within the ${Math.round(graceMs / 1000)} s grace (dump may be partial)`,
      { graceMs },
    );
  } catch (error) {
    record.facts.memory = {
      ...(record.facts.memory ?? { method: "none" }),
      reason: `capture failed: ${describeError(error)}`,
    };
    return failed(`memory capture failed: ${describeError(error)}`);
  }
}
