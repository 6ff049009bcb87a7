// The instance types the simulator knows: what DescribeInstanceTypes answers and what decides NMI, hibernation,
// screenshot and stop support. Values from the EC2 instance type specifications
// (docs.aws.amazon.com/ec2/latest/instancetypes/): memory, architecture, hypervisor, instance storage.

export interface InstanceTypeInfo {
  instanceType: string;
  vCpus: number;
  memoryMiB: number;
  architecture: "x86_64" | "arm64";
  hypervisor: "nitro" | "xen";
  /** GB of local instance storage (0 = EBS only). */
  instanceStorageGB: number;
  hibernationSupported: boolean;
  currentGeneration: boolean;
}

const t = (
  instanceType: string,
  vCpus: number,
  memoryGiB: number,
  architecture: "x86_64" | "arm64",
  hypervisor: "nitro" | "xen",
  instanceStorageGB = 0,
  hibernationSupported = true,
  currentGeneration = true,
): InstanceTypeInfo => ({
  instanceType,
  vCpus,
  memoryMiB: memoryGiB * 1024,
  architecture,
  hypervisor,
  instanceStorageGB,
  hibernationSupported,
  currentGeneration,
});

export const INSTANCE_TYPES: readonly InstanceTypeInfo[] = [
  t("t3.micro", 2, 1, "x86_64", "nitro"),
  t("t3.small", 2, 2, "x86_64", "nitro"),
  t("t3.medium", 2, 4, "x86_64", "nitro"),
  t("t3.large", 2, 8, "x86_64", "nitro"),
  t("m5.large", 2, 8, "x86_64", "nitro"),
  t("m5d.large", 2, 8, "x86_64", "nitro", 75, false),
  t("m6i.large", 2, 8, "x86_64", "nitro"),
  t("m6i.xlarge", 4, 16, "x86_64", "nitro"),
  t("m6i.2xlarge", 8, 32, "x86_64", "nitro"),
  t("c6i.large", 2, 4, "x86_64", "nitro"),
  t("c7i.large", 2, 4, "x86_64", "nitro"),
  t("c7i.xlarge", 4, 8, "x86_64", "nitro"),
  t("r6i.large", 2, 16, "x86_64", "nitro"),
  t("r6i.2xlarge", 8, 64, "x86_64", "nitro"),
  t("r6i.8xlarge", 32, 256, "x86_64", "nitro"),
  t("t4g.micro", 2, 1, "arm64", "nitro"),
  t("m7g.large", 2, 8, "arm64", "nitro"),
  t("c7g.xlarge", 4, 8, "arm64", "nitro"),
  t("r7g.large", 2, 16, "arm64", "nitro"),
  t("t2.micro", 1, 1, "x86_64", "xen", 0, true, false),
  t("m4.large", 2, 8, "x86_64", "xen", 0, true, false),
  t("i3.large", 2, 15.25, "x86_64", "xen", 475, false, true),
];

export function instanceTypeInfo(instanceType: string): InstanceTypeInfo | undefined {
  return INSTANCE_TYPES.find((info) => info.instanceType === instanceType);
}

/**
 * SendDiagnosticInterrupt: AWS accepts it on Nitro instances only (not on Xen). The API reference says only
 * Intel/AMD instances receive it as an NMI, which is what kdump needs, so the simulator also rejects Graviton
 * (arm64), the stance DESIGN.md step 4 takes ("Nitro, not Graviton").
 */
export function supportsDiagnosticInterrupt(info: InstanceTypeInfo): boolean {
  return info.hypervisor === "nitro" && info.architecture === "x86_64";
}

/** GetConsoleScreenshot: the simulator answers it for x86 Nitro and Xen types, not for Graviton. */
export function supportsScreenshot(info: InstanceTypeInfo): boolean {
  return info.architecture === "x86_64";
}
