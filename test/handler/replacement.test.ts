// The pure decisions of replacement (handler/steps/replacement/), tested without AWS.
import { expect } from "chai";

import { clientToken } from "../../handler/clientToken";
import {
  launchRefusal,
  passRoleDecision,
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

  describe("what EC2 refuses", () => {
    const instance = instanceFacts({
      launchTemplate: { id: "lt-1", version: "2" },
      tags: { Name: "web-1" },
      networkInterfaces: [
        { networkInterfaceId: "eni-1", vpcId: "vpc-1", subnetId: "subnet-a", originalGroupIds: ["sg-app"] },
      ],
      volumes: [],
    });

    it("iam:PassRole: a profile is passed only when every role it holds is listed (or it holds none)", () => {
      const role = "arn:aws:iam::111122223333:role/web";
      expect(passRoleDecision("web", [role], [role])).to.deep.equal({ pass: true });
      expect(passRoleDecision("web", [], [])).to.deep.equal({ pass: true });
      const refused = passRoleDecision("web", [role], []);
      expect(refused.pass).to.equal(false);
      expect(!refused.pass && refused.note).to.include(role);
      expect(passRoleDecision("web", undefined, [role]).pass).to.equal(false);
    });

    it("never a replacement without the original groups, nor into the responder's own", () => {
      expect(launchRefusal(instance, new Set(["sg-iso"]))).to.equal(undefined);
      expect(launchRefusal({ networkInterfaces: [] }, new Set())).to.match(/not known/);
      expect(
        launchRefusal(
          {
            networkInterfaces: [
              { ...instance.networkInterfaces[0]!, originalGroupIds: ["sg-app", "sg-iso"] },
            ],
          },
          new Set(["sg-iso"]),
        ),
      ).to.match(/sg-iso/);
    });

    it("a template with network interfaces gets groups and subnet inside NetworkInterfaces, never beside them", () => {
      const withInterfaces = replacementRequest(instance, "inc-1", undefined, {
        from: "launch-template",
        template: { networkInterfaces: [{ deviceIndex: 0, associatePublicIpAddress: true }] },
      });
      expect(withInterfaces.SubnetId).to.equal(undefined);
      expect(withInterfaces.SecurityGroupIds).to.equal(undefined);
      expect(withInterfaces.NetworkInterfaces).to.deep.equal([
        { DeviceIndex: 0, SubnetId: "subnet-a", Groups: ["sg-app"], AssociatePublicIpAddress: true },
      ]);
      expect(withInterfaces.LaunchTemplate).to.deep.equal({ LaunchTemplateId: "lt-1", Version: "2" });
      const plain = replacementRequest(instance, "inc-1", undefined, {
        from: "launch-template",
        template: { networkInterfaces: [] },
      });
      expect(plain.SecurityGroupIds).to.deep.equal(["sg-app"]);
      expect(plain.NetworkInterfaces).to.equal(undefined);
      const configuration = replacementRequest(instance, "inc-1", "arn:aws:iam::1:instance-profile/web", {
        from: "configuration",
        tokenPurpose: "replacement:configuration",
      });
      expect(configuration.LaunchTemplate).to.equal(undefined);
      expect(configuration.ImageId).to.equal("ami-1");
      expect(configuration.ClientToken).to.not.equal(withInterfaces.ClientToken);
    });
  });
});
