// The programs a Run Command script can run in the simulator: one, ir-triage (forensics-ami/scripts/ir-triage), as a
// model of its time and of what it writes, never of its analysis. Its hashes are not of any data (a volume here has
// none): the summary says "simulated", and its findings are what the scenario planted on the evidence's volume.
import { createHash } from "node:crypto";
import type { Instance, StoredObject } from "../state/model";
import type { World } from "../state/world";
import type { Ssm, SsmInvocation } from "./ssm";

export const TRIAGE_PROGRAM = "/usr/local/sbin/ir-triage";

/**
 * Time model (simulated ms). Hashing streams the raw device at the volume's throughput: gp3's baseline, 125 MiB/s
 * (EBS User Guide, "Amazon EBS volume types"), so about 8.2 s per GiB, at most --hash-budget-seconds before it goes
 * on in the background. Everything else (timeline, persistence checks, YARA, uploads) is a fixed 60 s plus 1 s per
 * GiB (assumption: walking the filesystem metadata).
 */
export const TRIAGE_TIMINGS = { hashMsPerGiB: (1024 / 125) * 1000, baseMs: 60_000, scanMsPerGiB: 1_000 };

/** Something a scenario planted on a volume, as the triage would report it (the contract's finding). */
export interface TriagePlant {
  severity: "high" | "medium" | "low";
  category: "persistence" | "tampering" | "yara" | "memory" | "timeline" | "hash";
  title: string;
  path: string;
}

export interface ProgramRun {
  durationMs: number;
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Runs when the program ends: what it leaves behind (objects uploaded); may set the exit code and stderr. */
  complete(): void;
}

const ended = (exitCode: number, stderr: string): ProgramRun => ({
  durationMs: 100,
  exitCode,
  stdout: "",
  stderr,
  complete: () => undefined,
});

const SEVERITY_ORDER = { high: 0, medium: 1, low: 2 } as const;

export function runProgram(
  world: World,
  ssm: Ssm,
  instance: Instance,
  script: string,
  installed: readonly string[],
  invocation: SsmInvocation,
): ProgramRun {
  if (!script.includes(TRIAGE_PROGRAM))
    return ended(1, "the simulator runs no program this script names (it simulates ir-triage only)");
  // What bash answers for a command that is not there.
  if (!installed.includes(TRIAGE_PROGRAM)) return ended(127, `${TRIAGE_PROGRAM}: No such file or directory`);
  return triage(world, ssm, instance, invocation.parameters);
}

/** The volume the evidence came from: an original is itself, a copy names its snapshot's volume. */
function evidenceOrigin(world: World, volumeId: string): { volumeId: string; instanceId?: string } {
  const volume = world.volumes.get(volumeId);
  const snapshot =
    (volume?.snapshotId && world.snapshots.get(volume.snapshotId)) ||
    [...world.snapshots.values()].find((candidate) => candidate.volumeId === volumeId);
  return { volumeId: snapshot ? snapshot.volumeId : volumeId, instanceId: snapshot?.sourceInstanceId };
}

function triage(
  world: World,
  ssm: Ssm,
  instance: Instance,
  parameters: Record<string, string[]>,
): ProgramRun {
  const first = (name: string) => parameters[name]?.[0] ?? "";
  const incidentId = first("IncidentId");
  const bucketName = first("EvidenceBucket");
  const volumeIds = first("Volumes").split(/\s+/).filter(Boolean);
  const budgetMs = Number(first("HashBudgetSeconds") || 600) * 1000;
  const startedAt = world.now();
  const devices = volumeIds.map((volumeId) => {
    const volume = world.volumes.get(volumeId);
    const attached = volume?.attachment?.instanceId === instance.instanceId;
    const gib = attached ? volume.sizeGiB : 0;
    const hashMs = gib * TRIAGE_TIMINGS.hashMsPerGiB;
    return { volumeId, attached, gib, hashMs, origin: evidenceOrigin(world, volumeId) };
  });
  const attachedDevices = devices.filter((device) => device.attached);
  const hashingMs = Math.min(
    budgetMs,
    attachedDevices.reduce((longest, device) => Math.max(longest, device.hashMs), 0),
  );
  const totalGiB = attachedDevices.reduce((sum, device) => sum + device.gib, 0);
  const durationMs = hashingMs + TRIAGE_TIMINGS.baseMs + totalGiB * TRIAGE_TIMINGS.scanMsPerGiB;
  const digest = (text: string) => createHash("sha256").update(text).digest("hex");
  const simulatedHash = (volumeId: string) => digest(`simulated device ${volumeId}`);
  const prefix = `incidents/${incidentId}/triage/`;

  const put = (name: string, text: string) => {
    const bucket = world.buckets.get(bucketName);
    if (!bucket) return undefined;
    const body = Buffer.from(text);
    const object: StoredObject = {
      body,
      contentType: name.endsWith(".json") ? "application/json" : "text/plain",
      etag: `"${createHash("md5").update(body).digest("hex")}"`,
      lastModified: world.now(),
      metadata: {},
      checksums: { sha256: createHash("sha256").update(body).digest("base64") },
      serverSideEncryption: "AES256",
      versionId: world.random.hex(32),
    };
    bucket.objects.set(`${prefix}${name}`, object);
    return { name, sha256: digest(text), bytes: body.length };
  };

  const complete = () => {
    // ir-triage's `aws s3 cp` fails without the bucket: its exit code 4, "the upload failed".
    if (!world.buckets.has(bucketName)) {
      run.exitCode = 4;
      run.stderr = `ir-triage: upload to s3://${bucketName}/${prefix} failed\n`;
      return;
    }
    const findings = [
      ...attachedDevices.flatMap((device) => ssm.plants.get(device.origin.volumeId) ?? []),
      ...memoryFindings(world, attachedDevices),
      ...attachedDevices
        .filter((device) => device.hashMs > budgetMs)
        .map((device) => ({
          severity: "low" as const,
          category: "hash" as const,
          title: `SHA-256 of ${device.volumeId} continues beyond the ${budgetMs / 1000}s budget; hash-${device.volumeId}.sha256 follows`,
          path: device.volumeId,
        })),
      ...devices
        .filter((device) => !device.attached)
        .map((device) => ({
          severity: "medium" as const,
          category: "hash" as const,
          title: `${device.volumeId} is not attached to this workstation: not examined`,
          path: device.volumeId,
        })),
    ].sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
    const deviceRows = devices.map((device) => {
      const hashDone = device.attached && device.hashMs <= budgetMs;
      return {
        source: device.volumeId,
        bytes: device.gib * 2 ** 30,
        sha256: hashDone ? simulatedHash(device.volumeId) : null,
        hash: !device.attached ? "failed" : hashDone ? "done" : "continuing",
        seconds: Math.round(Math.min(device.hashMs, budgetMs) / 1000),
      };
    });
    const dump = memoryFindings(world, attachedDevices).length > 0;
    const files = [
      put(
        "hashes.txt",
        deviceRows.map((row) => `${row.sha256 ?? "-"}  ${row.source} (${row.hash}, simulated)`).join("\n") +
          "\n",
      ),
      put("persistence.txt", `${findings.map((f) => `${f.category} ${f.path} ${f.title}`).join("\n")}\n`),
      put(
        "summary.txt",
        `${findings
          .slice(0, 10)
          .map((f) => `[${f.severity}] ${f.title} (${f.path})`)
          .join("\n")}\n`,
      ),
    ].filter((file) => file !== undefined);
    put("SHA256SUMS", files.map((file) => `${file.sha256}  ${file.name}`).join("\n") + "\n");
    put(
      "summary.json",
      JSON.stringify(
        {
          incidentId,
          status: deviceRows.every((row) => row.hash === "done") ? "complete" : "partial",
          simulated: true,
          startedAt: new Date(startedAt).toISOString(),
          endedAt: new Date(world.now()).toISOString(),
          devices: deviceRows,
          memoryDump: dump
            ? {
                found: true,
                path: "/var/crash",
                kernel: "simulated",
                dmesg: true,
                processes: null,
                symbols: null,
              }
            : { found: false, path: "", kernel: "", dmesg: false, processes: null, symbols: null },
          findings,
          files,
        },
        null,
        2,
      ),
    );
    // A hash past the budget goes on in the background and uploads its own file when it ends.
    for (const device of attachedDevices.filter((candidate) => candidate.hashMs > budgetMs)) {
      world.clock.schedule(device.hashMs - budgetMs, () =>
        put(`hash-${device.volumeId}.sha256`, `${simulatedHash(device.volumeId)}  ${device.volumeId}\n`),
      );
    }
  };
  const run: ProgramRun = {
    durationMs,
    exitCode: 0,
    stdout: `ir-triage (simulated): ${attachedDevices.length} device(s), results in s3://${bucketName}/${prefix}\n`,
    stderr: "",
    complete,
  };
  return run;
}

/** A kdump dump kdump wrote on the instance the evidence came from (its root volume holds /var/crash). */
function memoryFindings(
  world: World,
  devices: readonly { origin: { instanceId?: string } }[],
): TriagePlant[] {
  const dumped = devices.some(
    (device) =>
      device.origin.instanceId !== undefined &&
      (world.instances.get(device.origin.instanceId)?.memoryDumps.length ?? 0) > 0,
  );
  return dumped
    ? [
        {
          severity: "medium",
          category: "memory",
          title: "kdump crash dump found; kernel log read (simulated: no process list)",
          path: "/var/crash",
        },
      ]
    : [];
}
