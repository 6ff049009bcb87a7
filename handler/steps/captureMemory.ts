import { awsErrorCode, describeError, isControlFlow } from "../errors";
import { type InstanceFacts, recordedInstance } from "../incidentRecord";
import { describeInstance, tagsOf } from "../instanceDescription";
import { ec2Mutation, pollUntil, type ResponseContext } from "../responseContext";
import type { Settings } from "../settings";
import { TAG_KDUMP_READY, TRUE_VALUE } from "../tags";
import { done, failed, skipped, type StepResult } from "./stepResult";

/** What DescribeInstanceTypes and DescribeImages said, reduced to what the decision needs. */
export interface MemoryCaptureInputs {
  readonly state: string;
  readonly architectures: readonly string[];
  readonly hypervisor?: string;
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

/**
 * How to capture memory (pure). The diagnostic interrupt exists only on Nitro x86_64 instances (not Graviton,
 * not Xen) and is useful only when the kernel has kdump loaded; kdump powers the instance off afterwards, which
 * needs an EBS root (shutdown behaviour stop, set by cutAccess). Otherwise hibernation, where the instance was
 * launched with it, writes RAM to the root volume. Otherwise no memory capture, and the record says why.
 */
export function planMemoryCapture(
  inputs: MemoryCaptureInputs,
  settings: Pick<Settings, "memoryGraceBaseSeconds" | "memoryGraceSecondsPerGib">,
): MemoryCapturePlan {
  if (inputs.state !== "running")
    return { method: "none", reason: `instance is ${inputs.state}: no memory to capture` };
  const reasons: string[] = [];
  if (!inputs.architectures.includes("x86_64"))
    reasons.push(`no NMI on ${inputs.architectures.join("/") || "unknown"} (Graviton)`);
  else if (inputs.hypervisor !== "nitro")
    reasons.push(`no NMI on ${inputs.hypervisor ?? "unknown"} hypervisor`);
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

const POWERED_OFF = ["stopping", "stopped", "shutting-down", "terminated"];

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
        record.facts.memory = { method: "hibernate", reason: plan.reason, sentAt: new Date().toISOString() };
        // The stop step waits for "stopped": hibernation is a stop that first writes RAM to the root volume.
        record.facts.stop = { requestedAt: new Date().toISOString() };
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
      await aws.ec2.sendDiagnosticInterrupt({ InstanceId });
    }
    if (memory.method !== "nmi") return done(`memory: ${memory.method}`);
    const graceMs = memory.graceMs ?? 0;
    const deadline = Date.parse(memory.sentAt ?? new Date().toISOString()) + graceMs;
    const finalState = await pollUntil(context, deadline, async () => {
      const state = (await describeInstance(aws, InstanceId))?.State?.Name ?? "terminated";
      return POWERED_OFF.includes(state) ? state : undefined;
    });
    record.facts.memory = { ...memory, poweredOff: finalState !== undefined };
    return finalState !== undefined
      ? done(`NMI sent; kdump powered the instance off (${finalState})`, { graceMs })
      : done(
          `NMI sent; no power-off within the ${Math.round(graceMs / 1000)} s grace (dump may be partial)`,
          { graceMs },
        );
  } catch (error) {
    if (isControlFlow(error)) throw error;
    record.facts.memory = {
      ...(record.facts.memory ?? { method: "none" }),
      reason: `capture failed: ${describeError(error)}`,
    };
    return failed(`memory capture failed: ${describeError(error)}`);
  }
}
