// The Security Hub component (stack config `securityHub`, off by default), as the Pulumi program synthesizes it:
// the custom action, its rule to the responder (retries and dead letters as for findings), the handler's setting and
// the responder's least-privilege BatchUpdateFindings.
import { expect } from "chai";

import type { PolicyDocument } from "../../infra/policies";
import { CONTAIN_ACTION_ID } from "../../infra/securityHub";
import { matchesEventPattern } from "../../simulator/eventPattern";
import { BASE_CONFIG, runProgram, stackConfig, type ProgramRun } from "../../testkit/stackMockRun";

const FUNCTION = "aws:lambda/function:Function";
const RULE = "aws:cloudwatch/eventRule:EventRule";

function responderPolicy(run: ProgramRun): PolicyDocument {
  return JSON.parse(
    run.one("aws:iam/rolePolicy:RolePolicy", "ir-policy").inputs.policy as string,
  ) as PolicyDocument;
}

describe("stack: Security Hub", function () {
  this.timeout(120_000);
  let off: ProgramRun;
  let on: ProgramRun;

  before(async () => {
    off = await runProgram(BASE_CONFIG);
    on = await runProgram({ ...BASE_CONFIG, ...stackConfig({ securityHub: "true" }) });
  });

  it("is off by default: no custom action, no rule, no setting, no permission", () => {
    expect(off.ofType("aws:securityhub/actionTarget:ActionTarget")).to.have.length(0);
    expect(off.ofType(RULE)).to.have.length(1);
    const env = off.one(FUNCTION).inputs.environment.variables as Record<string, string>;
    expect(env).not.to.have.property("SECURITY_HUB_UPDATES");
    expect(JSON.stringify(responderPolicy(off))).not.to.contain("securityhub:");
    expect(off.outputs.securityHubActionTargetArn).to.equal(undefined);
  });

  it("creates the custom action “Contain EC2 instance” and outputs its ARN", () => {
    const action = on.one("aws:securityhub/actionTarget:ActionTarget");
    expect(action.inputs).to.deep.include({ name: "Contain EC2 instance", identifier: CONTAIN_ACTION_ID });
    expect(action.inputs.name.length, "the console takes names under 20 characters").to.be.below(21);
    expect(on.outputs.securityHubActionTargetArn).to.equal(action.state.arn);
  });

  it("routes the custom action's events, and only those, to the responder like the findings", () => {
    const actionArn = on.one("aws:securityhub/actionTarget:ActionTarget").state.arn as string;
    const rule = on.one(RULE, "contain-action");
    const pattern = JSON.parse(rule.inputs.eventPattern as string) as Record<string, unknown>;
    const event = (resources: string[], detailType = "Security Hub Findings - Custom Action") => ({
      source: "aws.securityhub",
      "detail-type": detailType,
      resources,
      detail: { findings: [] },
    });
    expect(matchesEventPattern(pattern, event([actionArn]))).to.equal(true);
    expect(matchesEventPattern(pattern, event([`${actionArn}-other`]))).to.equal(false);
    expect(matchesEventPattern(pattern, event([actionArn], "Security Hub Findings - Imported"))).to.equal(
      false,
    );

    const findingsTarget = on.one("aws:cloudwatch/eventTarget:EventTarget", "findings");
    const target = on.one("aws:cloudwatch/eventTarget:EventTarget", "contain-action");
    expect(target.inputs.arn).to.equal(on.one(FUNCTION).state.arn);
    expect(target.inputs.retryPolicy).to.deep.equal(findingsTarget.inputs.retryPolicy);
    expect(target.inputs.deadLetterConfig).to.deep.equal(findingsTarget.inputs.deadLetterConfig);
    const permission = on.one("aws:lambda/permission:Permission", "contain-action");
    expect(permission.inputs).to.deep.include({
      action: "lambda:InvokeFunction",
      principal: "events.amazonaws.com",
      sourceArn: rule.state.arn,
    });
    const queuePolicy = JSON.parse(
      on.one("aws:sqs/queuePolicy:QueuePolicy").inputs.policy as string,
    ) as PolicyDocument;
    expect(queuePolicy.Statement[0]?.Condition).to.deep.equal({
      ArnEquals: { "aws:SourceArn": [on.one(RULE, "findings").state.arn, rule.state.arn] },
    });
  });

  it("turns the handler's updates on, allowed on the hub for NOTIFIED and RESOLVED only", () => {
    const env = on.one(FUNCTION).inputs.environment.variables as Record<string, string>;
    expect(env.SECURITY_HUB_UPDATES).to.equal("true");
    const statements = responderPolicy(on).Statement.filter((s) =>
      s.Action.some((action) => action.startsWith("securityhub:")),
    );
    expect(statements).to.deep.equal([
      {
        Sid: "UpdateSecurityHubWorkflow",
        Effect: "Allow",
        Action: ["securityhub:BatchUpdateFindings"],
        Resource: ["arn:aws:securityhub:eu-central-1:111122223333:hub/default"],
        Condition: {
          StringEquals: { "securityhub:ASFFSyntaxPath/Workflow.Status": ["NOTIFIED", "RESOLVED"] },
        },
      },
    ]);
  });
});
