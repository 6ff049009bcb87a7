// The Lambda deployment package exactly as Pulumi builds it (the program's mock run of Pulumi.dev.yaml): its
// zipped size, and its cold initialisation (loading __index.js, which runs the factory) in fresh Node processes
// that resolve only what the Lambda runtime and the Powertools layer provide (testkit/localLambda.ts).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import {
  artifactFiles,
  bundledPackages,
  writeArtifact,
  zipArtifact,
  type AssetLike,
} from "../testkit/lambdaArtifact";
import { LocalLambda } from "../testkit/localLambda";
import { stackConfigFromFile } from "../drill/runDrill";
import { REGION, runProgram } from "../testkit/stackMockRun";
import { median, range } from "./stats";

export interface ArtifactResult {
  readonly stackFile: string;
  readonly files: number;
  readonly unzippedBytes: number;
  readonly zippedBytes: number;
  readonly bundledPackages: readonly string[];
  readonly coldInit: {
    readonly samples: number;
    readonly medianMs: number;
    readonly minMs: number;
    readonly maxMs: number;
    /** Wall ms per cold start as the runtime saw it: process start to the handler's first answer. */
    readonly medianFirstAnswerMs: number;
  };
}

const STACK_FILE = "Pulumi.dev.yaml";

export async function measureArtifact(samples: number): Promise<ArtifactResult> {
  const root = path.resolve(__dirname, "..");
  const run = await runProgram(stackConfigFromFile(path.join(root, STACK_FILE)));
  const fn = run.one("aws:lambda/function:Function");
  const files = await artifactFiles(fn.inputs.code as AssetLike, root);
  const zipped = zipArtifact(files);
  const environment = {
    ...(fn.inputs.environment.variables as Record<string, string>),
    AWS_REGION: REGION,
    POWERTOOLS_LOG_LEVEL: "SILENT",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
  // Outside the repository: the package must not find the repository's node_modules by walking up.
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "ir-bench-artifact-"));
  const artifactDir = path.join(work, "task");
  writeArtifact(files, artifactDir);
  const initMs: number[] = [];
  const firstAnswerMs: number[] = [];
  try {
    for (let sample = 0; sample < samples; sample += 1) {
      // A fresh LocalLambda is a fresh execution environment: a new Node process, nothing cached.
      const lambda = new LocalLambda({
        artifactDir,
        environment,
        functionName: "ir-responder",
        functionArn: `arn:aws:lambda:${REGION}:111122223333:function:ir-responder`,
        timeoutMs: 30_000,
        memoryMb: 512,
        retryDelaysMs: [0, 0],
        sourceNodeModules: path.join(root, "node_modules"),
      });
      try {
        const started = performance.now();
        // An event the handler rejects without calling AWS: the invocation measures init, not the network.
        const result = await lambda.invoke({ "bench:cold-start": sample });
        firstAnswerMs.push(performance.now() - started);
        if (!result.ok)
          throw new Error(`cold start ${sample}: ${result.error.name}: ${result.error.message}`);
        if (result.initMs === undefined) throw new Error(`cold start ${sample}: no init time reported`);
        initMs.push(result.initMs);
      } finally {
        lambda.stop();
      }
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  return {
    stackFile: STACK_FILE,
    files: files.size,
    unzippedBytes: [...files.values()].reduce((sum, file) => sum + file.byteLength, 0),
    zippedBytes: zipped.byteLength,
    bundledPackages: bundledPackages(files),
    coldInit: {
      samples,
      medianMs: median(initMs),
      minMs: range(initMs).min,
      maxMs: range(initMs).max,
      medianFirstAnswerMs: median(firstAnswerMs),
    },
  };
}
