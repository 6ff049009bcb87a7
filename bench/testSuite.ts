// The test suite's wall time: `npm test` run once, as CI runs it, with mocha's own summary line read back.
import { spawn } from "child_process";
import * as path from "path";

export interface SuiteResult {
  readonly wallMs: number;
  readonly passed?: number;
  readonly failed?: number;
  /** mocha's own "N passing (Xm)" duration, as it printed it. */
  readonly mochaDuration?: string;
  readonly exitCode: number | null;
}

export function runTestSuite(): Promise<SuiteResult> {
  const root = path.resolve(__dirname, "..");
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn("npm", ["test", "--silent"], {
      cwd: root,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("close", (exitCode) => {
      const summary = /(\d+) passed, (\d+) failed/.exec(output);
      const mocha = /\d+ passing \(([^)]+)\)/.exec(output);
      resolve({
        wallMs: performance.now() - started,
        passed: summary ? Number(summary[1]) : undefined,
        failed: summary ? Number(summary[2]) : undefined,
        mochaDuration: mocha?.[1],
        exitCode,
      });
    });
  });
}
