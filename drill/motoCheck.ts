// npm run sim:moto: the simulator's scenario suite (test/simulator) against moto instead of the simulator.
// Starts `moto_server` on a free local port, runs `mocha test/simulator` with SIM_EXTERNAL_ENDPOINT pointing at it,
// stops it, and compares the failures with the moto gaps documented in drill/simulator/README.md ("Running the
// scenario suite against another endpoint"). Exit 0: exactly the documented gaps failed; 1: a new failure, or a
// documented gap that no longer fails (update the README and KNOWN_MOTO_GAPS); 2: moto_server is not installed or
// did not start. `--strict` exits with mocha's own verdict instead (non-zero while any gap remains).
// moto is a Python package (`pip install "moto[server]"`); it is not part of npm ci, so CI does not run this.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** Tests that fail against moto because moto differs from AWS (full mocha titles), with moto's answer. */
export const KNOWN_MOTO_GAPS: Record<string, string> = {
  "simulator EC2 round trips (real EC2Client) DescribeNetworkInterfaces and ModifyNetworkInterfaceAttribute (Groups)":
    "an attached ENI's groups are the union of its own and the instance's launch groups (the old group stays)",
  "simulator EC2 round trips (real EC2Client) GetConsoleOutput (base64) and GetConsoleScreenshot (base64 JPEG)":
    "GetConsoleScreenshot is not implemented (500, HTML body)",
  "simulator EC2 round trips (real EC2Client) SendDiagnosticInterrupt is accepted on a running Nitro x86 instance":
    "SendDiagnosticInterrupt is not implemented (500, HTML body)",
  "simulator EC2 round trips (real EC2Client) CreateSnapshots (multi-volume, TagSpecifications, CopyTagsFromSource), DescribeSnapshots, LockSnapshot":
    "CreateSnapshots answers without a state (snapshots are born complete, progress 100%); LockSnapshot is not implemented",
  "simulator EC2 round trips (real EC2Client) DetachVolume, CreateVolume from a completed snapshot, AttachVolume in the same AZ, DescribeVolumes":
    "CreateVolume answers available at once (AWS: creating); a device name already in use is accepted",
  "simulator EC2 round trips (real EC2Client) RunInstances with TagSpecifications, ClientToken and a LaunchTemplate (CreateLaunchTemplate); TerminateInstances":
    "ClientToken is ignored: a repeated request launches another instance; no IdempotentParameterMismatch",
  "simulator Auto Scaling, ELBv2, IAM, SNS, S3, Lambda round trips (real clients) Auto Scaling: CreateAutoScalingGroup, DescribeAutoScalingInstances, DescribeAutoScalingGroups, DetachInstances":
    "DetachInstances with ShouldDecrementDesiredCapacity=true takes the group below its minimum size",
  "simulator Auto Scaling, ELBv2, IAM, SNS, S3, Lambda round trips (real clients) ELBv2: CreateTargetGroup, DescribeTargetGroups, DescribeTargetHealth, DeregisterTargets (draining), RegisterTargets":
    "a deregistered target is unused at once (no draining); a registered one healthy at once (no initial)",
  "simulator Auto Scaling, ELBv2, IAM, SNS, S3, Lambda round trips (real clients) S3: CreateBucket, HeadBucket, ListObjectsV2; a wrong checksum is refused (BadDigest)":
    "a PutObject whose x-amz-checksum-sha256 does not match the body is stored (AWS: 400 BadDigest)",
};

interface MochaTest {
  fullTitle: string;
  err?: { message?: string };
}
interface MochaJson {
  stats: { passes: number; failures: number; pending: number; tests: number };
  passes: MochaTest[];
  failures: MochaTest[];
  pending: MochaTest[];
}

const root = resolve(__dirname, "..");
const motoServer = process.env.MOTO_SERVER ?? "moto_server";

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

async function waitUntilUp(endpoint: string, child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${motoServer} exited with code ${child.exitCode}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${motoServer} did not answer at ${endpoint} within ${timeoutMs / 1000} s`);
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    const force = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(force);
      done();
    });
    child.kill("SIGTERM");
  });
}

async function main(): Promise<number> {
  const strict = process.argv.includes("--strict");
  const probe = spawnSync(motoServer, ["--help"], { stdio: "ignore" });
  if (probe.error || probe.status !== 0) {
    console.error(
      `sim:moto: '${motoServer}' is not available (${probe.error?.message ?? `exit ${probe.status}`}).\n` +
        `Install moto with its server extra (pip install "moto[server]") or set MOTO_SERVER to its path.`,
    );
    return 2;
  }
  const version = spawnSync("python3", ["-c", "import moto; print(moto.__version__)"], { encoding: "utf8" });
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const out = mkdtempSync(join(tmpdir(), "sim-moto-"));
  // moto logs every request: to a file, never to a pipe nobody drains while mocha runs (a full pipe stalls moto).
  const motoLogPath = join(out, "moto.log");
  const motoLog = openSync(motoLogPath, "w");
  const moto = spawn(motoServer, ["-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", motoLog, motoLog],
  });
  closeSync(motoLog);
  try {
    try {
      await waitUntilUp(endpoint, moto);
    } catch (error) {
      console.error(
        `sim:moto: ${(error as Error).message}\n${readFileSync(motoLogPath, "utf8").slice(-2_000)}`,
      );
      return 2;
    }
    console.log(
      `sim:moto: moto ${version.stdout?.trim() || "(version unknown)"} at ${endpoint} (pid ${moto.pid ?? "?"})`,
    );
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of Object.keys(env)) {
      if (name.startsWith("AWS_ENDPOINT_URL") || name === "AWS_PROFILE" || name === "AWS_SESSION_TOKEN") {
        delete env[name];
      }
    }
    Object.assign(env, {
      SIM_EXTERNAL_ENDPOINT: endpoint,
      AWS_REGION: process.env.AWS_REGION ?? "eu-central-1",
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
    });
    const report = join(out, "mocha.json");
    const mocha = spawn(
      join(root, "node_modules", ".bin", "mocha"),
      ["test/simulator", "--reporter", "json", "--reporter-option", `output=${report}`],
      { cwd: root, env, stdio: ["ignore", "inherit", "inherit"] },
    );
    const status = await new Promise<string>((done) =>
      mocha.once("exit", (code, signal) => done(String(code ?? signal))),
    );
    let result: MochaJson;
    try {
      result = JSON.parse(readFileSync(report, "utf8")) as MochaJson;
    } catch {
      console.error(`sim:moto: mocha wrote no report (exit ${status})`);
      return 1;
    }
    return verdict(result, strict);
  } finally {
    await stop(moto);
    rmSync(out, { recursive: true, force: true });
  }
}

function verdict(result: MochaJson, strict: boolean): number {
  const failed = new Map(result.failures.map((t) => [t.fullTitle, t.err?.message ?? ""]));
  for (const t of result.passes) console.log(`  pass  ${t.fullTitle}`);
  for (const t of result.pending) console.log(`  skip  ${t.fullTitle}`);
  const unexpected: string[] = [];
  for (const [title, message] of failed) {
    const gap = KNOWN_MOTO_GAPS[title];
    console.log(`  FAIL  ${title}\n        ${gap ? `known moto gap: ${gap}` : "NOT A KNOWN GAP"}`);
    console.log(`        ${message.split("\n")[0]}`);
    if (!gap) unexpected.push(title);
  }
  const fixed = Object.keys(KNOWN_MOTO_GAPS).filter((title) => !failed.has(title));
  const { passes, failures, pending } = result.stats;
  console.log(`\nagainst moto: ${passes} passed, ${failures} failed, ${pending} skipped`);
  for (const title of unexpected) console.log(`  new failure (not a documented moto gap): ${title}`);
  for (const title of fixed) console.log(`  documented moto gap that did not fail this time: ${title}`);
  if (strict) return failures > 0 ? 1 : 0;
  return unexpected.length > 0 || fixed.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
