// Runs the real provisioning scripts (not a TypeScript mirror of them) for the forensics-ami tests.
import { spawnSync } from "child_process";
import { createHash } from "crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join, relative } from "path";

export const FORENSICS_AMI_DIR = join(__dirname, "..", "..", "forensics-ami");
export const SCRIPTS_DIR = join(FORENSICS_AMI_DIR, "scripts");
export const IR_KDUMP = join(SCRIPTS_DIR, "ir-kdump");
export const EVIDENCE_MOUNT = join(SCRIPTS_DIR, "ir-evidence-mount");
export const WORKSTATION_SETUP = join(SCRIPTS_DIR, "forensic-workstation-setup");

export interface ScriptResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

// A clean environment: settings leaking in from the developer's shell must not change what a test sees.
function baseEnvironment(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C.UTF-8" };
}

export function runScript(script: string, args: string[], env: Record<string, string> = {}): ScriptResult {
  const result = spawnSync("bash", [script, ...args], {
    env: { ...baseEnvironment(), ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Sources SCRIPT (which defines functions only when sourced) and runs a bash snippet with them. */
export function runFunction(script: string, snippet: string, env: Record<string, string> = {}): ScriptResult {
  const result = spawnSync("bash", ["-c", `source "$1"; ${snippet}`, "bash", script], {
    env: { ...baseEnvironment(), ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `ir-forensics-${prefix}-`));
}

export function writeTree(root: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    const full = join(root, path);
    mkdirSync(join(full, ".."), { recursive: true });
    writeFileSync(full, content);
  }
}

/** path -> sha256 of every file under root (what "the same files" means for idempotency). */
export function treeDigest(root: string): Record<string, string> {
  const digest: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const full = join(dir, entry);
      const stats = statSync(full);
      if (stats.isDirectory()) walk(full);
      else
        digest[relative(root, full)] =
          `${(stats.mode & 0o777).toString(8)} ${createHash("sha256").update(readFileSync(full)).digest("hex")}`;
    }
  };
  walk(root);
  return digest;
}

export function hasCommand(command: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" }).status === 0;
}
