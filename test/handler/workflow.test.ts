// The pure decisions of the workflow contract (handler/workflow.ts), tested without AWS.
import { expect } from "chai";

import { executionConsoleUrl, executionName, workflowDependencies } from "../../handler/workflow";

describe("handler: the workflow contract", () => {
  describe("step contracts", () => {
    it("memory waits for the access cuts (shutdown behaviour stop, out of the Auto Scaling group), as declared", () => {
      const dependencies = workflowDependencies();
      expect(dependencies.captureMemory).to.include("cutAccess");
      expect(dependencies.stopInstance).to.include("captureMemory");
      expect(dependencies.snapshotVolumes).to.include("stopInstance");
      expect(dependencies.attachEvidenceVolumes).to.include.members([
        "snapshotVolumes",
        "launchForensicInstance",
      ]);
      expect(dependencies.launchForensicInstance).to.deep.equal([]);
    });
  });

  describe("executions", () => {
    it("the execution's console link names the partition's console; its name is the incident id", () => {
      const arn =
        "arn:aws:states:eu-central-1:111122223333:execution:ir-response:inc-20261120T081403412Z-i-0abc";
      expect(executionConsoleUrl("eu-central-1", arn)).to.equal(
        `https://eu-central-1.console.aws.amazon.com/states/home?region=eu-central-1#/v2/executions/details/${arn}`,
      );
      const china = arn.replace("arn:aws:", "arn:aws-cn:").replace("eu-central-1", "cn-north-1");
      expect(executionConsoleUrl("cn-north-1", china)).to.match(
        /^https:\/\/cn-north-1\.console\.amazonaws\.cn\//,
      );
      const gov = arn.replace("arn:aws:", "arn:aws-us-gov:").replace("eu-central-1", "us-gov-west-1");
      expect(executionConsoleUrl("us-gov-west-1", gov)).to.match(/console\.amazonaws-us-gov\.com/);
      expect(executionName("inc-20261120T081403412Z-i-0abc")).to.equal("inc-20261120T081403412Z-i-0abc");
      expect(executionName("a b/c".repeat(30))).to.match(/^[A-Za-z0-9_-]{80}$/);
    });
  });
});
