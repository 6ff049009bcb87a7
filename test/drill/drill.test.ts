// The deployment package Pulumi would upload, run unchanged in a separate process against the simulator.
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { findLambdaNode, LAMBDA_NODE_MAJOR } from "../../testkit/lambdaNode";
import { LocalLambda } from "../../testkit/localLambda";
import { DEFAULT_DRILL_OPTIONS, DrillResult, runDrill } from "../../drill/runDrill";

const REPO_NODE_MODULES = path.join(__dirname, "..", "..", "node_modules");

describe("drill: the serialized responder artifact end to end", function () {
  this.timeout(240_000);
  let result: DrillResult;
  let outputRoot: string;

  before(async () => {
    outputRoot = fs.mkdtempSync(path.join(os.tmpdir(), "ir-drill-test-"));
    result = await runDrill({ ...DEFAULT_DRILL_OPTIONS, timeScale: 25, outputRoot });
  });
  after(() => fs.rmSync(outputRoot, { recursive: true, force: true }));

  it("completes the response in one delivery, with nothing dead-lettered", () => {
    expect(result.status).to.equal("completed");
    expect(result.deadLettered).to.equal(0);
    expect(result.steps.filter((s) => s.status === "failed")).to.deep.equal([]);
  });

  it("reaches every milestone, isolation first and within seconds", () => {
    const { isolated, memoryCaptured, evidenceSecured, forensicWorkstationReady, serviceRestored, reported } =
      result.milestones;
    for (const at of [
      isolated,
      memoryCaptured,
      evidenceSecured,
      forensicWorkstationReady,
      serviceRestored,
      reported,
    ]) {
      expect(at).to.be.a("number");
    }
    expect(isolated).to.be.below(memoryCaptured as number);
    // The after-stop set holds the dump: it is taken once kdump has powered the instance off.
    expect(memoryCaptured).to.be.at.most(evidenceSecured as number);
    expect(isolated).to.be.below(serviceRestored as number);
    expect(evidenceSecured).to.be.at.most(forensicWorkstationReady as number);
    // Simulated seconds; local CPU is scaled too, so this bound is generous, not a benchmark.
    expect(isolated).to.be.below(30);
  });

  it("writes the report, the incident record, the call log and the notification", () => {
    for (const file of [
      "report.json",
      "report.md",
      "incident-record.json",
      "aws-calls.json",
      "notification.txt",
    ]) {
      expect(fs.existsSync(path.join(result.outputDir, file)), file).to.equal(true);
    }
    const report = JSON.parse(fs.readFileSync(path.join(result.outputDir, "report.json"), "utf8")) as object;
    expect(JSON.stringify(report)).to.contain(result.instanceId);
    expect(result.notification).to.contain(result.instanceId);
  });

  it("gives the report's and the notification's times on the timeline's clock (simulated seconds)", () => {
    const read = (file: string) => fs.readFileSync(path.join(result.outputDir, file), "utf8");
    const report = JSON.parse(read("report.json")) as {
      timeScale?: number;
      milestones: Record<string, number | undefined>;
    };
    const { isolated, memoryCaptured, evidenceSecured, forensicWorkstationReady } = result.milestones;
    expect(report.timeScale).to.equal(25);
    expect(report.milestones).to.deep.include({
      isolated,
      memoryCaptured,
      evidenceSecured,
      forensicWorkstationReady,
    });
    expect(result.notification).to.contain(`Isolated after ${isolated?.toFixed(1)} s of simulated time.`);
    const markdown = read("report.md");
    expect(markdown).to.contain(`- isolated: ${isolated?.toFixed(1)} s`);
    expect(markdown).to.contain("simulated time, run 25x faster than the wall clock");
  });

  it("was answered by the deployment package in its own process (a cold start was measured)", () => {
    expect(result.coldStartsMs.length).to.be.at.least(1);
    expect(result.coldStartsMs[0]).to.be.above(0);
    // LocalLambda starts its processes on this Node (the runtime test below checks that it does).
    const node = findLambdaNode();
    console.log(
      `      the drill's Lambda process: ${node.found ? node.version : `${process.version} (${node.reason})`}`,
    );
  });
});

describe("local Lambda runtime: module resolution as in Lambda", function () {
  this.timeout(60_000);
  let taskRoot: string;
  let lambda: LocalLambda;

  before(() => {
    // A package outside the repository, like /var/task: only the runtime's and the layer's packages resolve.
    taskRoot = fs.mkdtempSync(path.join(os.tmpdir(), "ir-task-"));
    fs.writeFileSync(
      path.join(taskRoot, "__index.js"),
      `exports.handler = async (name) => name === "process.version" ? process.version : (require(name), require.resolve(name));`,
    );
    lambda = new LocalLambda({
      artifactDir: taskRoot,
      environment: {},
      functionName: "probe",
      functionArn: "arn:aws:lambda:eu-central-1:111122223333:function:probe",
      timeoutMs: 20_000,
      memoryMb: 128,
      retryDelaysMs: [1, 1],
      sourceNodeModules: REPO_NODE_MODULES,
    });
  });
  after(() => {
    lambda.stop();
    fs.rmSync(taskRoot, { recursive: true, force: true });
  });

  it("provides the AWS SDK v3 and the Powertools logger", async () => {
    for (const name of ["@aws-sdk/client-ec2", "@aws-lambda-powertools/logger"]) {
      const result = await lambda.invoke(name);
      expect(result.ok, name).to.equal(true);
    }
  });

  it(`runs the package on the Lambda's own Node (${LAMBDA_NODE_MAJOR}, nodejs${LAMBDA_NODE_MAJOR}.x)`, async function () {
    const node = lambda.runtimeNode;
    if (!node.lambdaMajor) {
      // .ci/run installs it and sets LAMBDA_NODE_REQUIRED: there a missing Node 22 is a failure, not a skip.
      if (process.env.LAMBDA_NODE_REQUIRED) expect.fail(node.reason);
      console.log(`      skipped: ${node.reason}`);
      this.skip();
    }
    const result = await lambda.invoke("process.version");
    expect(result.ok && result.result).to.equal(node.version);
    expect(node.version).to.match(new RegExp(`^v${LAMBDA_NODE_MAJOR}\\.`));
    console.log(
      `      the Lambda's process ran ${node.version} (${node.execPath}); the tests run ${process.version}`,
    );
  });

  it("does not provide packages the deployment package would have to carry", async () => {
    for (const name of ["superstruct", "fflate", "@pulumi/pulumi"]) {
      const result = await lambda.invoke(name);
      expect(result.ok, name).to.equal(false);
      expect(!result.ok && result.error.message).to.match(/Cannot find module/);
    }
  });
});
