import type { Principal } from "./iam/authorizer";
import type { StepFunctionsThrottling } from "./services/stepFunctions";
// Public configuration of the AWS simulator: every realism knob, with its default and where the value comes from.
// All durations are SIMULATED milliseconds; the time scale maps them to wall-clock time (see clock.ts).

/** How long AWS takes for each asynchronous state change. */
export interface StateDurations {
  /** pending -> running. AWS: "typically 30-60 s" for EBS-backed Linux instances (EC2 User Guide, instance lifecycle). */
  instancePendingMs: number;
  /** stopping -> stopped for an OS shutdown that completes normally (typical 30-60 s; AWS waits up to ~10 min before forcing). */
  instanceStoppingMs: number;
  /** stopping -> stopped with Force=true (the hypervisor pulls the plug; a few seconds). */
  instanceForceStoppingMs: number;
  /** Extra time per GiB of RAM when hibernating (RAM is written to the root EBS volume). */
  hibernatePerGiBMs: number;
  /** shutting-down -> terminated (typical 30-60 s). */
  instanceShuttingDownMs: number;
  /** An OS power-off that the instance initiates itself (after a kdump) reaches "stopping" this fast. */
  guestPowerOffMs: number;
  /** kdump after the NMI: fixed part (the capture kernel boots and starts makedumpfile; see KDUMP_MODEL) ... */
  kdumpBaseMs: number;
  /** ... plus this per GiB of instance memory (makedumpfile scans it and writes the pages it keeps; see KDUMP_MODEL). */
  kdumpPerGiBMs: number;
  /** volume attaching -> attached (EBS: a few seconds). */
  volumeAttachMs: number;
  /** volume detaching -> available (EBS: a few seconds once the OS released it). */
  volumeDetachMs: number;
  /** CreateVolume: creating -> available. */
  volumeCreateMs: number;
  /** Snapshot pending -> completed: fixed part ... */
  snapshotBaseMs: number;
  /** ... plus this per GiB of volume size (first, full snapshots are proportional to written data). */
  snapshotPerGiBMs: number;
  /** IAM instance profile association: associating -> associated. */
  iamAssociationMs: number;
  /** ELBv2 target: initial -> healthy (default health check: interval 30 s x healthy threshold 5 = 150 s). */
  targetHealthyMs: number;
  /** ELBv2 deregistration delay when the target group sets none (documented default 300 s). */
  defaultDeregistrationDelayMs: number;
  /** Auto Scaling: time until a member that is not running (e.g. stopped) is found unhealthy and replaced. */
  asgHealthCheckMs: number;
}

export interface LatencyOptions {
  /** Mean simulated latency added to every call. */
  meanMs: number;
  /** Uniform jitter in [-jitterMs, +jitterMs] around the mean (never below 0). */
  jitterMs?: number;
}

/** A token bucket: capacity and refill rate (tokens per simulated second). */
export interface BucketLimits {
  capacity: number;
  refillPerSecond: number;
}

export interface ThrottlingOptions {
  /** false turns EC2 throttling off entirely (default on, with the documented AWS values). */
  enabled?: boolean;
  /** Override the request bucket of one EC2 action (e.g. { DescribeInstances: { capacity: 3, refillPerSecond: 1 } }). */
  actions?: Record<string, BucketLimits>;
  /** Override the resource bucket of RunInstances/StartInstances/StopInstances/TerminateInstances. */
  resources?: Record<string, BucketLimits>;
}

export interface SimulatorOptions {
  region?: string;
  accountId?: string;
  /** Simulated time runs this many times faster than wall time (default 1); 0 = a manual clock moved only by advance(). */
  timeScale?: number;
  /** Simulated epoch ms at start (default: the wall clock). */
  startTime?: number;
  latency?: LatencyOptions;
  throttling?: ThrottlingOptions;
  /** A resource created within this many simulated ms answers NotFound to calls that name it (default 0). */
  consistencyDelayMs?: number;
  durations?: Partial<StateDurations>;
  /** Seed of the pseudo-random generator (jitter, probabilistic faults, generated ids). */
  seed?: number;
  /** TCP port (default 0: an ephemeral port). */
  port?: number;
  host?: string;
  /**
   * IAM evaluation of every request (on by default). The default credentials (`env()`) belong to an account
   * administrator; `principals` adds identities with their own policies (the responder's role, an operator).
   * `"off"` is for tests about something else and must be asked for by name.
   */
  iam?: { principals?: Principal[] } | "off";
  /** A DynamoDB-compatible server (dynalite) that the simulator's front passes authorized DynamoDB calls to. */
  dynamodbUpstream?: string;
  /** Step Functions' API throttling (default on, with the documented token buckets; see services/stepFunctions.ts). */
  stepFunctionsThrottling?: StepFunctionsThrottling;
}

// Sources for the defaults (also listed in README.md):
// - EC2 instance lifecycle (docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-instance-lifecycle.html) and
//   "Stop and start Amazon EC2 instances": pending, stopping and shutting-down take tens of seconds; typical
//   observed values are 30-60 s. AWS documents no exact figure; we take 40 s.
// - EBS attach/detach (docs.aws.amazon.com/ebs/latest/userguide/ebs-detaching-volume.html): a volume stays in
//   "detaching" until the OS releases it; for an idle or stopped instance this is seconds.
// - EBS snapshots (docs.aws.amazon.com/ebs/latest/userguide/ebs-creating-snapshot.html): "Snapshots occur
//   asynchronously ... the snapshot status is pending until the snapshot is complete", and a first snapshot copies
//   all written blocks, so its duration grows with size. No figure is documented: we assume 60 s + 6 s per GiB
//   (a 100 GiB volume about 11 minutes), in line with commonly reported first-snapshot times.
// - ELBv2 target groups (docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-attributes.html
//   and .../target-group-health-checks.html): deregistration_delay default 300 s; health check interval 30 s,
//   healthy threshold 5.
// - Auto Scaling health checks (docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-health-checks.html):
//   an instance in any state other than running is unhealthy and is replaced; detection happens on the next
//   periodic check. We assume 60 s.
// - kdump: see KDUMP_MODEL below.

/**
 * How long a kdump takes, from the physics of it: the capture kernel boots, makedumpfile reads every page's
 * descriptor (all of memory) and writes the pages that dump level 17 keeps (all but free and zero pages: the
 * intruder's processes and the page cache stay), lzo-compressed, to the root EBS volume, whose throughput bounds
 * it. Duration = captureBootMs + GiB x (scanMsPerGiB + writtenFraction x 1024 MiB / ebsWriteMiBPerSecond): 43 s
 * for 8 GiB, 76 s for 16 GiB (the former assumption, 20 s + 10 s per GiB, gave 100 s and 180 s).
 * Where each figure comes from. MEASURED means the kdump VM proof, 2026-12-07, Debian 12 kernel 6.1, 2 GiB x86
 * guest under QEMU TCG (emulated: no usable KVM on these 2 shared cores), `-l -d 17`; its table is in
 * forensics-ami/README.md, "Measured here".
 * - captureBootMs, ASSUMED 10 s on a Nitro instance. MEASURED under emulation: NMI to makedumpfile's start 24.1 s
 *   (capture kernel uptime 20.7 s: kernel plus a systemd userland) at host load 5, 38-52 s at load 8-18. Emulation
 *   runs a boot several times slower than hardware; no published figure for EC2 was found.
 * - scanMsPerGiB, PUBLISHED: makedumpfile with mmap() on /proc/vmcore filters 32 GB in 0.6 s, "roughly 19.2 s on
 *   1 TB" (HATAYAMA Daisuke, LKML, 2013-03-14,
 *   https://linuxlists.cc/l/1/linux-kernel/permalink/%3C20130314.204618.00667752.d.hatayama%40jp.fujitsu.com%3E;
 *   about 40 s on 2 TB: https://lists.infradead.org/pipermail/kexec/2013-April/008777.html), about 20 ms/GiB.
 *   MEASURED: the idle guest's whole makedumpfile run (scan and 84.5 MiB written) took 6.2 s emulated, 0.32 GiB/s.
 * - ebsWriteMiBPerSecond, PUBLISHED: gp3's baseline throughput, 125 MiB/s included in the price (EBS User Guide,
 *   "General Purpose SSD volumes", https://docs.aws.amazon.com/ebs/latest/userguide/general-purpose.html); gp3 is
 *   the console's default root volume. MEASURED that makedumpfile's CPU path keeps up with it on hardware: the
 *   guest's own makedumpfile, run natively on this (shared, loaded) host, refilters the 2 GiB guest's dump (84.5
 *   to 346 MiB) with `-l -d 17` in 1.2-2.7 s, reading and decompressing included. Emulated it wrote 14-18 MiB/s.
 *   ASSUMED: the instance's own EBS bandwidth is not lower (it is on some small sizes; gp2 and provisioned gp3 are
 *   faster).
 * - writtenFraction, ASSUMED 0.5 byte written per byte of memory: level 17 keeps what a running server uses, and
 *   Linux fills otherwise free memory with page cache, so most pages are kept; lzo is taken to halve them.
 *   MEASURED bounds: the idle guest wrote 0.04 (84.5 MiB of 2 GiB), 256 MiB of random data in tmpfs added 262 MiB
 *   (incompressible: 1.0). PUBLISHED floor: at level 31, which also drops cache and user pages, Red Hat found
 *   vmcores "often ... under 10% of RAM" (review of 1500 vmcores, https://access.redhat.com/articles/5676371).
 */
export const KDUMP_MODEL = {
  captureBootMs: 10_000,
  scanMsPerGiB: 20,
  writtenFraction: 0.5,
  ebsWriteMiBPerSecond: 125,
} as const;

export const DEFAULT_DURATIONS: StateDurations = {
  instancePendingMs: 40_000,
  instanceStoppingMs: 40_000,
  instanceForceStoppingMs: 5_000,
  hibernatePerGiBMs: 5_000,
  instanceShuttingDownMs: 40_000,
  guestPowerOffMs: 3_000,
  kdumpBaseMs: KDUMP_MODEL.captureBootMs,
  kdumpPerGiBMs: Math.round(
    KDUMP_MODEL.scanMsPerGiB +
      ((KDUMP_MODEL.writtenFraction * 1024) / KDUMP_MODEL.ebsWriteMiBPerSecond) * 1000,
  ),
  volumeAttachMs: 3_000,
  volumeDetachMs: 5_000,
  volumeCreateMs: 10_000,
  snapshotBaseMs: 60_000,
  snapshotPerGiBMs: 6_000,
  iamAssociationMs: 2_000,
  targetHealthyMs: 150_000,
  defaultDeregistrationDelayMs: 300_000,
  asgHealthCheckMs: 60_000,
};

/** A record of one API call as the simulator served it. */
export interface CallRecord {
  seq: number;
  /** Signing name of the service: ec2, autoscaling, elasticloadbalancing, iam, sns, s3, lambda, states, ... */
  service: string;
  action: string;
  /** The decoded request (the SDK's input shape for Query services; a summary for S3 and Lambda). */
  params: Record<string, unknown>;
  /** Simulated epoch ms when the request arrived and when the answer was sent. */
  simStart: number;
  simEnd: number;
  status: number;
  errorCode?: string;
  /** IAM's decision on the request, when it was evaluated. */
  authorization?: "allowed" | "denied";
}

export type FaultKind =
  /** HTTP 500 InternalError. */
  | { type: "internalError" }
  /** HTTP 503 Unavailable / ServiceUnavailable. */
  | { type: "serviceUnavailable" }
  /** The service's throttling error (EC2: 503 RequestLimitExceeded; others: 400 Throttling). */
  | { type: "throttle" }
  /** Hold the socket for holdMs of WALL time (past the client's timeout), then destroy it. */
  | { type: "timeout"; holdMs?: number }
  /** Destroy the socket at once (connection reset). */
  | { type: "reset" }
  /** Answer with this AWS error code. */
  | { type: "error"; code: string; message?: string; httpStatus?: number };

export interface FaultRule {
  /** Signing name (ec2, autoscaling, ...); omitted = any service. */
  service?: string;
  /** Action name (DescribeInstances, PutObject, Invoke ...); omitted = any action. */
  action?: string;
  fault: FaultKind;
  /** Fire for this many matching calls, then retire (default: unlimited). */
  count?: number;
  /** Fire with this probability for each matching call (default 1). */
  probability?: number;
  /** Let this many matching calls through before the rule starts firing (default 0). */
  skip?: number;
}
