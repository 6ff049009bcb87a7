import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { CUSTOM_ACTION_DETAIL_TYPE } from "../handler/acceptance/requested";
import { routeToResponder, type ResponderRoute } from "./detection";

/** The custom action's id: its ARN is arn:PARTITION:securityhub:REGION:ACCOUNT:action/custom/ContainEc2Instance. */
export const CONTAIN_ACTION_ID = "ContainEc2Instance";

/** The rule's pattern for one custom action's events (Security Hub user guide, "Defining a rule in EventBridge"). */
function customActionEventPattern(actionTargetArn: string): object {
  return {
    source: ["aws.securityhub"],
    "detail-type": [CUSTOM_ACTION_DETAIL_TYPE],
    resources: [actionTargetArn],
  };
}

/**
 * Security Hub in the loop (stack config `securityHub: true`, for accounts where Security Hub is enabled): the
 * custom action "Contain EC2 instance", so an analyst starts a response from a finding in the console, and the
 * rule that hands its events to the responder, with the same retries and dead-letter queue as the findings rule.
 * The responder's updates of the findings' workflow are its own (handler/securityHub.ts, SECURITY_HUB_UPDATES).
 */
export class SecurityHubAction extends pulumi.ComponentResource {
  public readonly actionTargetArn: pulumi.Output<string>;
  public readonly ruleArn: pulumi.Output<string>;

  constructor(name: string, route: ResponderRoute, opts?: pulumi.ComponentResourceOptions) {
    super("ir:aws:SecurityHubAction", name, {}, opts);
    const action = new aws.securityhub.ActionTarget(
      `${name}-contain`,
      {
        // Security Hub's console takes names under 20 characters.
        name: "Contain EC2 instance",
        identifier: CONTAIN_ACTION_ID,
        description: "Isolate the finding's EC2 instances and start the incident response",
      },
      { parent: this },
    );
    const rule = routeToResponder(
      this,
      `${name}-contain-action`,
      route,
      "Security Hub custom action: contain the findings' EC2 instances",
      action.arn.apply(customActionEventPattern),
    );
    this.actionTargetArn = action.arn;
    this.ruleArn = rule.arn;
    this.registerOutputs({ actionTargetArn: this.actionTargetArn, ruleArn: this.ruleArn });
  }
}
