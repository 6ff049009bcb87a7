// The instance types the simulator knows: what DescribeInstanceTypes answers and what decides NMI, hibernation,
// screenshot, stop support and EBS attachment limits. Values from the EC2 instance type specifications
// (docs.aws.amazon.com/ec2/latest/instancetypes/): memory, architecture, hypervisor, instance storage; the
// attachment limits from "Amazon EBS volume limits for Amazon EC2 instances" (see README, "EC2 refusals").
import type { Instance } from "./model";

/**
 * How many EBS volumes an instance of the type can have attached (the root volume counts). "shared": one limit
 * for EBS volumes, network interfaces and NVMe instance store volumes together (most Nitro types: 28);
 * "dedicated": EBS volumes only (M7i, C7i, R7i ...: 32 up to 12xlarge; some bare metal types). Xen types have no
 * API limit (Linux: "more than 40 volumes can cause boot failures", best effort): undefined.
 */
type AttachmentLimit = { kind: "shared" | "dedicated"; max: number } | undefined;

export interface InstanceTypeInfo {
  instanceType: string;
  vCpus: number;
  memoryMiB: number;
  architecture: "x86_64" | "arm64";
  /** The platform the type is built on. Bare metal Nitro types report no hypervisor (see bareMetal). */
  hypervisor: "nitro" | "xen";
  /** Bare metal: DescribeInstanceTypes answers BareMetal=true and no Hypervisor. */
  bareMetal: boolean;
  /** GB of local instance storage (0 = EBS only). */
  instanceStorageGB: number;
  /** NVMe instance store volumes (they take attachment slots under a shared limit). */
  nvmeInstanceStoreVolumes: number;
  hibernationSupported: boolean;
  currentGeneration: boolean;
  attachmentLimit: AttachmentLimit;
}

/** "Most of these instances support a maximum of 28 attachments" (shared between EBS, ENIs and NVMe store). */
const SHARED_28: AttachmentLimit = { kind: "shared", max: 28 };
/** Dedicated EBS limit of M7i/C7i/R7i ... from medium to 12xlarge: 32 volumes. */
const DEDICATED_32: AttachmentLimit = { kind: "dedicated", max: 32 };

const t = (
  instanceType: string,
  vCpus: number,
  memoryGiB: number,
  architecture: "x86_64" | "arm64",
  hypervisor: "nitro" | "xen",
  instanceStorageGB = 0,
  hibernationSupported = true,
  currentGeneration = true,
  extra: Partial<Pick<InstanceTypeInfo, "bareMetal" | "nvmeInstanceStoreVolumes" | "attachmentLimit">> = {},
): InstanceTypeInfo => ({
  instanceType,
  vCpus,
  memoryMiB: memoryGiB * 1024,
  architecture,
  hypervisor,
  bareMetal: false,
  instanceStorageGB,
  nvmeInstanceStoreVolumes: 0,
  hibernationSupported,
  currentGeneration,
  attachmentLimit: hypervisor === "nitro" ? SHARED_28 : undefined,
  ...extra,
});

export const INSTANCE_TYPES: readonly InstanceTypeInfo[] = [
  t("t3.micro", 2, 1, "x86_64", "nitro"),
  t("t3.small", 2, 2, "x86_64", "nitro"),
  t("t3.medium", 2, 4, "x86_64", "nitro"),
  t("t3.large", 2, 8, "x86_64", "nitro"),
  t("m5.large", 2, 8, "x86_64", "nitro"),
  t("m5d.large", 2, 8, "x86_64", "nitro", 75, false, true, { nvmeInstanceStoreVolumes: 1 }),
  t("m5.metal", 96, 384, "x86_64", "nitro", 0, false, true, { bareMetal: true }),
  t("m6i.large", 2, 8, "x86_64", "nitro"),
  t("m6i.xlarge", 4, 16, "x86_64", "nitro"),
  t("m6i.2xlarge", 8, 32, "x86_64", "nitro"),
  t("c6i.large", 2, 4, "x86_64", "nitro"),
  t("c7i.large", 2, 4, "x86_64", "nitro", 0, true, true, { attachmentLimit: DEDICATED_32 }),
  t("c7i.xlarge", 4, 8, "x86_64", "nitro", 0, true, true, { attachmentLimit: DEDICATED_32 }),
  t("r6i.large", 2, 16, "x86_64", "nitro"),
  t("r6i.2xlarge", 8, 64, "x86_64", "nitro"),
  t("r6i.8xlarge", 32, 256, "x86_64", "nitro"),
  // "u-6tb1.metal, u-9tb1.metal, and u-12tb1.metal instances support a maximum of 13 EBS volumes".
  t("u-6tb1.metal", 448, 6144, "x86_64", "nitro", 0, false, true, {
    bareMetal: true,
    attachmentLimit: { kind: "dedicated", max: 13 },
  }),
  t("t4g.micro", 2, 1, "arm64", "nitro"),
  t("m7g.large", 2, 8, "arm64", "nitro"),
  t("c7g.xlarge", 4, 8, "arm64", "nitro"),
  t("r7g.large", 2, 16, "arm64", "nitro"),
  t("m6g.large", 2, 8, "arm64", "nitro"),
  t("m6g.metal", 64, 256, "arm64", "nitro", 0, false, true, { bareMetal: true }),
  // A1: the first Graviton generation, Nitro-based, and the one exception to the diagnostic interrupt.
  t("a1.large", 2, 4, "arm64", "nitro", 0, false),
  t("a1.metal", 16, 32, "arm64", "nitro", 0, false, true, { bareMetal: true }),
  t("t2.micro", 1, 1, "x86_64", "xen", 0, true, false),
  t("m4.large", 2, 8, "x86_64", "xen", 0, true, false),
  t("i3.large", 2, 15.25, "x86_64", "xen", 475, false, true),
];

export function instanceTypeInfo(instanceType: string): InstanceTypeInfo | undefined {
  return INSTANCE_TYPES.find((info) => info.instanceType === instanceType);
}

/** The type of an instance the simulator launched (every launch checked its type). */
export function typeInfoOf(instance: Instance): InstanceTypeInfo {
  const info = instanceTypeInfo(instance.instanceType);
  if (!info) throw new Error(`unknown instance type ${instance.instanceType}`);
  return info;
}

/**
 * SendDiagnosticInterrupt: "Diagnostic interrupt is supported on all Nitro-based instance types, except A1"
 * (EC2 User Guide, "Send a diagnostic interrupt", supported instance types). Nitro-based includes the bare metal
 * types and Graviton; Xen types are refused. On Intel and AMD the interrupt arrives as an NMI; on Graviton the
 * API reference says nothing of its form: the simulator lets a kdump-ready arm64 guest dump as an x86 one does
 * (inferred, see README).
 */
export function supportsDiagnosticInterrupt(info: InstanceTypeInfo): boolean {
  return info.hypervisor === "nitro" && !isA1(info.instanceType);
}

/** The A1 family (a1.medium ... a1.metal). */
function isA1(instanceType: string): boolean {
  return instanceType.startsWith("a1.");
}

/** GetConsoleScreenshot: the simulator answers it for x86 Nitro and Xen types, not for Graviton. */
export function supportsScreenshot(info: InstanceTypeInfo): boolean {
  return info.architecture === "x86_64";
}
