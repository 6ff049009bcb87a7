// The pure decisions of replacement (handler/steps/replacement/), tested without AWS.
import { expect } from "chai";

import { clientToken } from "../../handler/clientToken";
import {
  planReplacement,
  replacementRequest,
  replacementTags,
} from "../../handler/steps/replacement/launchPlan";
import { instanceFacts } from "./instanceFacts";

describe("handler: replacement", () => {
  it("who replaces the instance", () => {
    expect(planReplacement("asg", "off", instanceFacts())).to.deep.equal({
      by: "auto-scaling-group",
      groupName: "asg",
    });
    expect(planReplacement(undefined, "off", instanceFacts())).to.deep.include({ by: "none" });
    expect(
      planReplacement(undefined, "launch", instanceFacts({ launchTemplate: { id: "lt-1" } })),
    ).to.deep.equal({ by: "launch", from: "launch-template" });
    expect(planReplacement(undefined, "launch", instanceFacts())).to.deep.equal({
      by: "launch",
      from: "configuration",
    });
    expect(planReplacement(undefined, "launch", instanceFacts({ imageId: undefined }))).to.deep.include({
      by: "none",
    });
  });
  it("a replacement gets the ORIGINAL groups, its subnet, an incident-derived token and the workload's own tags", () => {
    const request = replacementRequest(
      instanceFacts({ keyName: "ops" }),
      "inc-1",
      "arn:aws:iam::1:instance-profile/web-app",
    );
    expect(request.SecurityGroupIds).to.deep.equal(["sg-app", "sg-mon"]);
    expect(request.SubnetId).to.equal("subnet-a");
    expect(request.ClientToken).to.equal(clientToken("inc-1", "replacement"));
    expect(request.IamInstanceProfile).to.deep.equal({ Arn: "arn:aws:iam::1:instance-profile/web-app" });
    const fromTemplate = replacementRequest(
      instanceFacts({ launchTemplate: { id: "lt-1", version: "3" } }),
      "inc-1",
      undefined,
    );
    expect(fromTemplate.LaunchTemplate).to.deep.equal({ LaunchTemplateId: "lt-1", Version: "3" });
    expect(fromTemplate.ImageId).to.equal(undefined);
    expect(
      replacementTags({ Name: "web-1", "aws:autoscaling:groupName": "asg", "ir:incident": "old" }, 47),
    ).to.deep.equal([{ Key: "Name", Value: "web-1" }]);
  });
});
