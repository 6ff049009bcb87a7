// npm run sim:moto: this project against moto (a second AWS implementation) instead of the simulator, in two parts.
// 1. The simulator's scenario suite (test/simulator) with SIM_EXTERNAL_ENDPOINT pointing at moto; its failures are
//    compared with the moto gaps documented in simulator/README.md ("Against moto").
// 2. A response end to end (test/drill/motoResponse.test.ts): the deployment package answers a finding about an
//    instance moto launched, pointed at moto through AWS_ENDPOINT_URL for every service but Step Functions: the
//    stack's state machine runs in the project's simulator, started by the test (moto's executions run no state), and
//    the package reaches it through AWS_ENDPOINT_URL_SFN; the test follows the execution to its end. Every test must
//    pass.
// Starts `moto_server` on a free local port (MOTO_SERVER overrides the command), resets it between the parts,
// stops it. Ends with the line "sim:moto: N passed, N failed", which .ci/run adds to its own: passed counts the
// tests that passed (a documented gap that passed counts as failed: update the README and KNOWN_MOTO_GAPS);
// failed counts new failures in part 1 and every failure in part 2; documented gaps that failed as documented are
// listed, not counted. Exit 0: nothing failed; 1: something did; 2: moto_server is not installed or did not
// start. `--strict` counts every failure of part 1, documented or not.
// moto is a Python package (`pip install "moto[server]"`), not part of npm ci: where it is missing .ci/run skips this.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** Tests that fail against moto because moto differs from AWS (full mocha titles), with moto's answer. */
export const KNOWN_MOTO_GAPS: Record<string, string> = {
  "simulator EC2 round trips (real EC2Client) DescribeNetworkInterfaces and ModifyNetworkInterfaceAttribute (Groups)":
    "an attached ENI's groups are the union of its own and the instance's launch groups (the old group stays)",
  "simulator EC2 round trips (real EC2Client) ModifyInstanceAttribute (Groups): the groups of the instance's one interface; with several, InvalidInstanceID":
    "the instance's groups are replaced, but its ENI shows the union of its own (old) groups and the new ones",
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

/** The response end to end against moto: every test must pass. */
const RESPONSE_TEST = "test/drill/motoResponse.test.ts";

interface Count {
  passed: number;
  failed: number;
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
  const started = Date.now();
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
      MOTO_ENDPOINT: endpoint,
      AWS_REGION: process.env.AWS_REGION ?? "eu-central-1",
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    });

    console.log("\nsim:moto: 1. the scenario suite (test/simulator) against moto");
    let partStart = Date.now();
    const suite = await runMocha(["test/simulator"], env, join(out, "suite.json"));
    const suiteCount = suite ? suiteVerdict(suite, strict) : { passed: 0, failed: 1 };
    const suiteSeconds = (Date.now() - partStart) / 1000;

    console.log(`\nsim:moto: 2. a response end to end against moto (${RESPONSE_TEST})`);
    const reset = await fetch(`${endpoint}/moto-api/reset`, { method: "POST" });
    if (!reset.ok) console.log(`sim:moto: moto's reset answered ${reset.status}`);
    partStart = Date.now();
    const response = await runMocha([RESPONSE_TEST], env, join(out, "response.json"));
    const responseCount = response ? responseVerdict(response) : { passed: 0, failed: 1 };
    const responseSeconds = (Date.now() - partStart) / 1000;

    const passed = suiteCount.passed + responseCount.passed;
    const failed = suiteCount.failed + responseCount.failed;
    console.log(
      `\nsim:moto: scenario suite ${suiteSeconds.toFixed(0)} s, response ${responseSeconds.toFixed(0)} s, ` +
        `${((Date.now() - started) / 1000).toFixed(0)} s in all`,
    );
    console.log(`sim:moto: ${passed} passed, ${failed} failed`);
    return failed > 0 ? 1 : 0;
  } finally {
    await stop(moto);
    rmSync(out, { recursive: true, force: true });
  }
}

/** Runs mocha with the JSON reporter into `report`; the tests' own output goes to the terminal. */
async function runMocha(
  specs: string[],
  env: NodeJS.ProcessEnv,
  report: string,
): Promise<MochaJson | undefined> {
  const mocha = spawn(
    join(root, "node_modules", ".bin", "mocha"),
    [...specs, "--reporter", "json", "--reporter-option", `output=${report}`],
    { cwd: root, env, stdio: ["ignore", "inherit", "inherit"] },
  );
  const status = await new Promise<string>((done) =>
    mocha.once("exit", (code, signal) => done(String(code ?? signal))),
  );
  if (!existsSync(report)) {
    console.error(`sim:moto: mocha wrote no report for ${specs.join(" ")} (exit ${status})`);
    return undefined;
  }
  try {
    return JSON.parse(readFileSync(report, "utf8")) as MochaJson;
  } catch {
    console.error(`sim:moto: mocha's report for ${specs.join(" ")} is not JSON (exit ${status})`);
    return undefined;
  }
}

function suiteVerdict(result: MochaJson, strict: boolean): Count {
  const failed = new Map(result.failures.map((t) => [t.fullTitle, t.err?.message ?? ""]));
  for (const t of result.passes) console.log(`  pass  ${t.fullTitle}`);
  for (const t of result.pending) console.log(`  skip  ${t.fullTitle}`);
  const unexpected: string[] = [];
  const documented: string[] = [];
  for (const [title, message] of failed) {
    const gap = KNOWN_MOTO_GAPS[title];
    console.log(`  FAIL  ${title}\n        ${gap ? `known moto gap: ${gap}` : "NOT A KNOWN GAP"}`);
    console.log(`        ${message.split("\n")[0]}`);
    if (gap && !strict) documented.push(title);
    else unexpected.push(title);
  }
  const fixed = Object.keys(KNOWN_MOTO_GAPS).filter((title) => !failed.has(title));
  const { passes, failures, pending } = result.stats;
  console.log(`\nscenario suite against moto: ${passes} passed, ${failures} failed, ${pending} skipped`);
  console.log(`  ${documented.length} of the failures are documented moto gaps (not counted as failed)`);
  for (const title of unexpected) console.log(`  new failure (not a documented moto gap): ${title}`);
  for (const title of fixed) console.log(`  documented moto gap that did not fail this time: ${title}`);
  const passedAsGap = fixed.filter((title) => result.passes.some((t) => t.fullTitle === title)).length;
  return { passed: passes - passedAsGap, failed: unexpected.length + fixed.length };
}

function responseVerdict(result: MochaJson): Count {
  const { passes, failures, pending } = result.stats;
  for (const t of result.failures) {
    console.log(`  FAIL  ${t.fullTitle}\n        ${(t.err?.message ?? "").split("\n")[0]}`);
  }
  for (const t of result.pending) console.log(`  skip  ${t.fullTitle}`);
  console.log(`\nresponse against moto: ${passes} passed, ${failures} failed, ${pending} skipped`);
  // A response that skipped everything did not run (MOTO_ENDPOINT lost on the way): that is a failure.
  if (passes === 0 && failures === 0) return { passed: 0, failed: 1 };
  return { passed: passes, failed: failures };
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
