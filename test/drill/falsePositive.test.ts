// npm run drill -- --false-positive: the stack's responder package answers a drill finding, then the operator's
// ir release (the operator policy only) puts the instance back, compared attribute by attribute with as found.
import { expect } from "chai";

import {
  printFalsePositive,
  runFalsePositiveDrill,
  type FalsePositiveResult,
} from "../../drill/falsePositive";
import { DEFAULT_DRILL_OPTIONS } from "../../drill/runDrill";

describe("drill --false-positive: respond, release, back in service as found", function () {
  this.timeout(240_000);
  let result: FalsePositiveResult;

  // It writes no files (unlike the drill's own report), so the output root is never used.
  before(async () => {
    result = await runFalsePositiveDrill({ ...DEFAULT_DRILL_OPTIONS, timeScale: 25 });
  });

  it("completes the response, then releases it as an operator with no IAM denial", () => {
    expect(result.responseStatus).to.equal("completed");
    expect(result.releaseExitCode, result.releaseProgress).to.equal(0);
    expect(result.iam.denied).to.equal(0);
  });

  it("finds every attribute as found: groups, profile, volumes, target group, Auto Scaling group", () => {
    const attributes = result.comparison.map((row) => row.attribute);
    for (const attribute of [
      "groupsByInterface",
      "instanceProfileArn",
      "volumes",
      "targetGroups",
      "autoScalingGroup",
      "state",
      "shutdownBehavior",
      "terminationProtection",
      "metadataHttpEndpoint",
    ])
      expect(attributes).to.include(attribute);
    expect(result.comparison.filter((row) => !row.same)).to.deep.equal([]);
    const byName = Object.fromEntries(result.comparison.map((row) => [row.attribute, row.after]));
    expect(byName.state).to.equal('"running"');
    expect(byName.targetGroups).to.match(/:443}$/);
  });

  it("prints the instance back in service, attribute by attribute, and exits 0", () => {
    const lines: string[] = [];
    expect(printFalsePositive(result, (line) => lines.push(line))).to.equal(0);
    const text = lines.join("\n");
    expect(text).to.contain("The instance back in service, attribute by attribute:");
    expect(text).to.match(/✔ instanceProfileArn +"arn:aws:iam::\d{12}:instance-profile\/web-app"/);
    expect(text).to.contain("Back exactly as found.");
    expect(text).to.contain("valid again");
  });
});
