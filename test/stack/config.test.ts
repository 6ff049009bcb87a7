import { expect } from "chai";
import { ConfigError, parseStackConfig, PROJECT } from "../../infra/config";

const minimal = (extra: Record<string, string> = {}): Record<string, string> => ({
  "aws:region": "eu-central-1",
  [`${PROJECT}:forensicAmiId`]: "ami-0a1b2c3d4e5f60718",
  ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k.includes(":") ? k : `${PROJECT}:${k}`, v])),
});

function problemsOf(config: Record<string, string>): string[] {
  try {
    parseStackConfig(config);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("expected the configuration to be refused");
}

describe("stack configuration", () => {
  it("applies the documented defaults to a minimal stack", () => {
    const config = parseStackConfig(minimal());
    expect(config).to.deep.include({
      region: "eu-central-1",
      severityThreshold: 7,
      vpcIds: [],
      forensicSourceCidrs: [],
      forensicIngressPorts: [22],
      forensicEgressCidrs: ["0.0.0.0/0"],
      forensicInstanceType: "m6i.large",
      evidenceRetention: "retain",
      logRetentionDays: 365,
      dryRun: false,
      replacement: "launch",
      revokeRoleSessions: true,
      cutTrackedConnections: true,
      responderTimeoutSeconds: 900,
      stopMode: "forced",
      snapshotCopiesFrom: "after-stop",
    });
    expect(config.snapshotLock).to.deep.equal({ mode: "none", days: 1 });
    expect(config.ebsKmsKeyArns).to.deep.equal([]);
    expect(config.replacementRoleArns).to.deep.equal([]);
    expect(config.guardDutyDetectorId).to.equal(undefined);
  });

  it("parses structured values given as YAML lists and maps (JSON text to the program)", () => {
    const config = parseStackConfig(
      minimal({
        vpcIds: '["vpc-0123456789abcdef0","vpc-0aaaaaaa"]',
        forensicSubnets: '{"eu-central-1a":"subnet-0aa11bb22cc33dd44"}',
        forensicSourceCidrs: '["10.20.250.0/24","2001:db8::/64"]',
        snapshotLock: '{"mode":"governance","days":7}',
        severityThreshold: "high",
        dryRun: "true",
      }),
    );
    expect(config.vpcIds).to.deep.equal(["vpc-0123456789abcdef0", "vpc-0aaaaaaa"]);
    expect(config.forensicSubnets).to.deep.equal({ "eu-central-1a": "subnet-0aa11bb22cc33dd44" });
    expect(config.forensicSourceCidrs).to.deep.equal(["10.20.250.0/24", "2001:db8::/64"]);
    expect(config.snapshotLock).to.deep.equal({ mode: "governance", days: 7 });
    expect(config.severityThreshold).to.equal(7);
    expect(config.dryRun).to.equal(true);
  });

  it("accepts severity names and decimal severities", () => {
    expect(parseStackConfig(minimal({ severityThreshold: "critical" })).severityThreshold).to.equal(9);
    expect(parseStackConfig(minimal({ severityThreshold: "Medium" })).severityThreshold).to.equal(4);
    expect(parseStackConfig(minimal({ severityThreshold: "8.5" })).severityThreshold).to.equal(8.5);
  });

  const refusals: [string, Record<string, string>, RegExp][] = [
    ["a malformed forensic AMI id", { forensicAmiId: "ami-XYZ" }, /forensicAmiId/],
    ["an unknown stop mode", { stopMode: "hibernate" }, /stopMode.*"hibernate"/],
    ["an unknown snapshot set to copy", { snapshotCopiesFrom: "latest" }, /snapshotCopiesFrom.*"latest"/],
    ["an AMI id that is another resource's", { forensicAmiId: "snap-0123456789abcdef0" }, /forensicAmiId/],
    ["an unknown severity name", { severityThreshold: "severe" }, /severityThreshold.*"severe"/],
    ["a severity above GuardDuty's range", { severityThreshold: "11" }, /severityThreshold.*outside/],
    ["a severity of zero", { severityThreshold: "0" }, /severityThreshold/],
    [
      "0.0.0.0/0 as a forensic source",
      { forensicSourceCidrs: '["0.0.0.0/0"]' },
      /forensicSourceCidrs\[0\].*Internet/,
    ],
    [
      "::/0 as a forensic source",
      { forensicSourceCidrs: '["10.0.0.0/8","::/0"]' },
      /forensicSourceCidrs\[1\].*Internet/,
    ],
    [
      "a forensic source that is not a CIDR",
      { forensicSourceCidrs: '["10.0.0.1"]' },
      /forensicSourceCidrs\[0\]/,
    ],
    [
      "an IPv4 CIDR with a bad octet",
      { forensicSourceCidrs: '["10.0.300.0/24"]' },
      /forensicSourceCidrs\[0\]/,
    ],
    [
      "an IPv6 CIDR that is not an address",
      { forensicSourceCidrs: '[":::/64"]' },
      /forensicSourceCidrs\[0\].*not a CIDR/,
    ],
    ["an IPv6 prefix above 128", { forensicSourceCidrs: '["2001:db8::/129"]' }, /forensicSourceCidrs\[0\]/],
    [
      "an egress CIDR that is not one",
      { forensicEgressCidrs: '["10.0.0.0/33"]' },
      /forensicEgressCidrs\[0\]/,
    ],
    ["a VPC id that is not one", { vpcIds: '["subnet-0aa11bb22cc33dd44"]' }, /vpcIds\[0\]/],
    ["a VPC list that is not JSON", { vpcIds: "vpc-0123456789abcdef0" }, /vpcIds/],
    [
      "a forensic subnet keyed by a region, not an AZ",
      { forensicSubnets: '{"eu-central-1":"subnet-0aa11bb2"}' },
      /forensicSubnets/,
    ],
    ["a detector id of the wrong shape", { guardDutyDetectorId: "detector-1" }, /guardDutyDetectorId/],
    ["a retention CloudWatch does not offer", { logRetentionDays: "10" }, /logRetentionDays.*10 is not/],
    ["a boolean spelled otherwise", { dryRun: "yes" }, /dryRun/],
    ["an unknown retention mode", { evidenceRetention: "forever" }, /evidenceRetention/],
    ["a snapshot lock without days", { snapshotLock: '{"mode":"governance"}' }, /snapshotLock/],
    [
      "an object lock mode AWS does not have",
      { evidenceObjectLock: '{"mode":"LEGAL","days":30}' },
      /evidenceObjectLock/,
    ],
    ["a Lambda timeout above 900 s", { responderTimeoutSeconds: "1200" }, /responderTimeoutSeconds/],
    ["an email address without a domain", { notificationEmail: "soc@" }, /notificationEmail/],
    ["a port out of range", { forensicIngressPorts: "[0]" }, /forensicIngressPorts\[0\]/],
    [
      "a replacement role that is not a role ARN",
      { replacementRoleArns: '["arn:aws:iam::111122223333:user/x"]' },
      /replacementRoleArns\[0\]/,
    ],
    [
      "an exclusion-like tag key in the aws: namespace",
      { kdumpPrepareTagKey: "aws:prepare" },
      /kdumpPrepareTagKey/,
    ],
    [
      "a misspelt key",
      { severityTreshold: "7" },
      /severityTreshold is not a known key \(did you mean .*severityThreshold\?\)/,
    ],
    ["a malformed region", { "aws:region": "Frankfurt" }, /aws:region/],
    [
      "an alias among the EBS keys (a policy's Resource must name the key)",
      {
        ebsKmsKeyArns:
          '["arn:aws:kms:eu-central-1:111122223333:key/1a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d","arn:aws:kms:eu-central-1:111122223333:alias/ebs"]',
      },
      /ebsKmsKeyArns\[1\]: arn:aws:kms:eu-central-1:111122223333:alias\/ebs is an alias: give the ARN of its key/,
    ],
    [
      "an EBS key that is not a KMS ARN",
      { ebsKmsKeyArns: '["1a2b3c4d-5e6f"]' },
      /ebsKmsKeyArns\[0\]: 1a2b3c4d-5e6f is not a KMS key ARN/,
    ],
  ];
  for (const [what, values, message] of refusals) {
    it(`refuses ${what}, naming the key`, () => {
      const problems = problemsOf(minimal(values));
      expect(problems.join("\n")).to.match(message);
    });
  }

  it("accepts EBS key ARNs, and the evidence key as a key ARN or an alias ARN (resolved at deployment)", () => {
    const key = "arn:aws:kms:eu-central-1:111122223333:key/1a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d";
    expect(parseStackConfig(minimal({ ebsKmsKeyArns: JSON.stringify([key]) })).ebsKmsKeyArns).to.deep.equal([
      key,
    ]);
    for (const evidenceKmsKeyArn of [key, "arn:aws:kms:eu-central-1:111122223333:alias/ir-evidence"]) {
      expect(parseStackConfig(minimal({ evidenceKmsKeyArn })).evidenceKmsKeyArn).to.equal(evidenceKmsKeyArn);
    }
  });

  it("requires the region and the forensic AMI, and reports every problem at once", () => {
    const problems = problemsOf({ [`${PROJECT}:severityThreshold`]: "99" });
    expect(problems).to.have.length(3);
    expect(problems.join("\n")).to.match(/aws:region is required/);
    expect(problems.join("\n")).to.match(/forensicAmiId is required/);
    expect(problems.join("\n")).to.match(/severityThreshold/);
  });

  it("leaves other namespaces' keys alone", () => {
    expect(() =>
      parseStackConfig(minimal({ "aws:profile": "sandbox", "other:anything": "1" })),
    ).not.to.throw();
  });

  it("triage: on by default with its bounds; values out of range are refused, naming the key", () => {
    expect(parseStackConfig(minimal())).to.deep.include({
      triage: true,
      triageTimeoutSeconds: 1800,
      triageHashBudgetSeconds: 600,
      triageTimelineHours: 72,
    });
    expect(parseStackConfig(minimal({ triage: "false" })).triage).to.equal(false);
    const problems = problemsOf(
      minimal({ triageTimeoutSeconds: "30", triageHashBudgetSeconds: "-5", triageTimelineHours: "1.5" }),
    );
    expect(problems.map((problem) => problem.split(":")[1])).to.deep.equal([
      "triageTimeoutSeconds",
      "triageHashBudgetSeconds",
      "triageTimelineHours",
    ]);
  });
});
