// The Lambda's own Node: the responder runs on nodejs22.x, this machine's tests on its own Node (20). The
// processes that run the deployment package (testkit/localLambda.ts: the drill, the package tests, the benchmark's
// cold starts) use Node 22 when it is here, so a Node 22 difference in the package shows up locally first.
// Found, in order: LAMBDA_NODE (a path to a node binary), this process's own Node if it is already 22, the copy
// that `npm run lambda-node` installs from the npm registry (the `node` package) into LAMBDA_NODE_PREFIX.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

/** The Node major of the function's runtime (infra/responder.ts: nodejs22.x). */
export const LAMBDA_NODE_MAJOR = 22;

/** Where `npm run lambda-node` installs Node 22 (under node_modules: ignored by git, removed by `npm ci`). */
const LAMBDA_NODE_PREFIX = path.resolve(__dirname, "..", "node_modules", ".cache", "lambda-node22");

interface LambdaNode {
  /** The node binary to start the Lambda's processes with. */
  execPath: string;
  /** Its `process.version`, e.g. "v22.23.3". */
  version: string;
}

export type LambdaNodeLookup = ({ found: true } & LambdaNode) | { found: false; reason: string };

let cached: LambdaNodeLookup | undefined;

/** Node 22 for the Lambda's processes, or why there is none (then they run on this machine's Node). */
export function findLambdaNode(): LambdaNodeLookup {
  cached ??= lookUp();
  return cached;
}

function lookUp(): LambdaNodeLookup {
  const explicit = process.env.LAMBDA_NODE?.trim();
  if (explicit) return check(explicit, "LAMBDA_NODE");
  if (majorOf(process.version) === LAMBDA_NODE_MAJOR) {
    return { found: true, execPath: process.execPath, version: process.version };
  }
  const installed = path.join(LAMBDA_NODE_PREFIX, "node_modules", "node", "bin", "node");
  if (!fs.existsSync(installed)) {
    return {
      found: false,
      reason:
        `Node ${LAMBDA_NODE_MAJOR} is not installed (this machine runs ${process.version}); ` +
        "`npm run lambda-node` installs it (.ci/run does)",
    };
  }
  return check(installed, LAMBDA_NODE_PREFIX);
}

function check(execPath: string, origin: string): LambdaNodeLookup {
  const answer = spawnSync(execPath, ["--version"], { encoding: "utf8", timeout: 30_000 });
  const version = answer.stdout?.trim() ?? "";
  if (answer.error || answer.status !== 0 || !/^v\d+\./.test(version)) {
    return {
      found: false,
      reason: `${execPath} (${origin}) does not run: ${answer.error?.message ?? `exit ${answer.status}`}`,
    };
  }
  if (majorOf(version) !== LAMBDA_NODE_MAJOR) {
    return { found: false, reason: `${execPath} (${origin}) is ${version}, not Node ${LAMBDA_NODE_MAJOR}` };
  }
  return { found: true, execPath, version };
}

function majorOf(version: string): number {
  return Number(/^v(\d+)\./.exec(version)?.[1] ?? NaN);
}
