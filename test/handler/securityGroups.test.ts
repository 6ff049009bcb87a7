// The pure decisions of the responder's security groups (handler/securityGroups.ts), tested without AWS.
import { expect } from "chai";

import {
  configuredResponderGroupIds,
  desiredRules,
  flattenPermissions,
  isResponderGroup,
  responderGroupIdsNamedIn,
  ruleChanges,
  toPermission,
} from "../../handler/securityGroups";

describe("handler: the responder's security groups", () => {
  it("the responder's own groups: configured (untrack, isolation, forensic) or named as on-demand groups", () => {
    const configured = { "vpc-1": { untrack: "sg-u", isolation: "sg-i", forensic: "sg-f" } };
    expect([...configuredResponderGroupIds(configured)]).to.deep.equal(["sg-u", "sg-i", "sg-f"]);
    expect(isResponderGroup("sg-f", undefined, configured)).to.equal(true);
    expect(isResponderGroup("sg-x", "ir-untrack-vpc-0123456789abcdef0", configured)).to.equal(true);
    expect(isResponderGroup("sg-x", "ir-forensic-vpc-01234567", {})).to.equal(true);
    expect(isResponderGroup("sg-x", "web-app", configured)).to.equal(false);
    expect(isResponderGroup("sg-x", "ir-untrack-elsewhere", configured)).to.equal(false);
    expect(
      responderGroupIdsNamedIn([
        {
          Groups: [
            { GroupId: "sg-1", GroupName: "ir-isolation-vpc-0123abcd" },
            { GroupId: "sg-2", GroupName: "app" },
          ],
        },
      ]),
    ).to.deep.equal(["sg-1"]);
  });
  it("isolation group: no egress, SSH only from the forensic sources; untrack: all both ways", () => {
    expect(desiredRules("isolation", ["192.0.2.0/24"])).to.deep.equal({
      ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidr: "192.0.2.0/24" }],
      egress: [],
    });
    const untrack = desiredRules("untrack", []);
    expect(untrack.ingress.map((rule) => rule.cidr)).to.deep.equal(["0.0.0.0/0", "::/0"]);
    expect(untrack.egress.map((rule) => rule.cidr)).to.deep.equal(["0.0.0.0/0", "::/0"]);
  });
  it("a fresh group's default egress is revoked for isolation", () => {
    const fresh = {
      ingress: [],
      egress: flattenPermissions([{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }]),
    };
    const changes = ruleChanges(fresh, desiredRules("isolation", ["192.0.2.0/24", "198.51.100.7/32"]));
    expect(changes.revokeEgress).to.deep.equal([
      { protocol: "-1", fromPort: undefined, toPort: undefined, cidr: "0.0.0.0/0" },
    ]);
    expect(changes.authorizeIngress.map((rule) => rule.cidr)).to.deep.equal([
      "192.0.2.0/24",
      "198.51.100.7/32",
    ]);
    expect(changes.authorizeEgress).to.deep.equal([]);
  });
  it("an IPv6 forensic source becomes an Ipv6Ranges rule of an on-demand isolation group", () => {
    const [ipv4, ipv6] = desiredRules("isolation", ["192.0.2.0/24", "2001:db8::/48"]).ingress.map(
      toPermission,
    );
    expect(ipv4).to.deep.equal({
      IpProtocol: "tcp",
      FromPort: 22,
      ToPort: 22,
      IpRanges: [{ CidrIp: "192.0.2.0/24" }],
    });
    expect(ipv6).to.deep.equal({
      IpProtocol: "tcp",
      FromPort: 22,
      ToPort: 22,
      Ipv6Ranges: [{ CidrIpv6: "2001:db8::/48" }],
    });
  });
  it("a converged group needs no change", () => {
    const desired = desiredRules("isolation", ["192.0.2.0/24"]);
    expect(ruleChanges(desired, desired)).to.deep.equal({
      authorizeIngress: [],
      authorizeEgress: [],
      revokeEgress: [],
    });
  });
});
