// The handler's settings: one schema (handler/settings.ts) read by the Lambda at cold start, written by the stack,
// and scaled by a drill or a benchmark that runs AWS time faster.
import { brotliCompressSync } from "zlib";

import { expect } from "chai";

import { InvalidSettingError } from "../../handler/errors";
import { parseSettings, scaledDurations, settingsEnvironment, type Settings } from "../../handler/settings";
import { TEST_ENV } from "../../testkit/testSettings";

describe("handler: settings", () => {
  it("parses the defaults", () => {
    const settings = parseSettings(TEST_ENV);
    expect(settings).to.deep.include({
      severityThreshold: 7,
      dryRun: false,
      snapshotLock: "none",
      replacement: "off",
      revokeRoleSessions: true,
      pollIntervalSeconds: 2,
      stopTimeoutSeconds: 300,
      maxPollIntervalSeconds: 60,
      exclusionTag: "ir:exclude",
    });
  });
  const bad: [string, Record<string, string | undefined>, string][] = [
    ["a missing table", { INCIDENT_TABLE: undefined }, "INCIDENT_TABLE"],
    ["a missing account", { RESPONDER_ACCOUNT_ID: "" }, "RESPONDER_ACCOUNT_ID"],
    ["a malformed account", { RESPONDER_ACCOUNT_ID: "12345" }, "RESPONDER_ACCOUNT_ID"],
    ["a severity out of range", { SEVERITY_THRESHOLD: "11" }, "SEVERITY_THRESHOLD"],
    ["a severity that is not a number", { SEVERITY_THRESHOLD: "high" }, "SEVERITY_THRESHOLD"],
    ["a boolean that is not one", { DRY_RUN: "yes" }, "DRY_RUN"],
    ["an unknown lock mode", { SNAPSHOT_LOCK: "strict" }, "SNAPSHOT_LOCK"],
    ["an unknown replacement mode", { REPLACEMENT: "always" }, "REPLACEMENT"],
    ["VPC groups that are not JSON", { VPC_SECURITY_GROUPS: "{vpc-1:" }, "VPC_SECURITY_GROUPS"],
    ["VPC groups of the wrong shape", { VPC_SECURITY_GROUPS: '{"vpc-1":"sg-1"}' }, "VPC_SECURITY_GROUPS"],
    [
      "forensic sources open to the world",
      { FORENSIC_SOURCE_CIDRS: '["0.0.0.0/0"]' },
      "FORENSIC_SOURCE_CIDRS",
    ],
    ["a forensic source that is no CIDR", { FORENSIC_SOURCE_CIDRS: '["office"]' }, "FORENSIC_SOURCE_CIDRS"],
    [
      "a quarantine profile that is no profile ARN",
      { QUARANTINE_INSTANCE_PROFILE_ARN: "arn:aws:iam::111122223333:role/x" },
      "QUARANTINE_INSTANCE_PROFILE_ARN",
    ],
    ["a negative poll interval", { POLL_INTERVAL_SECONDS: "-1" }, "POLL_INTERVAL_SECONDS"],
    ["a missing state machine", { STATE_MACHINE_ARN: undefined }, "STATE_MACHINE_ARN"],
    [
      "a state machine ARN that names an execution",
      { STATE_MACHINE_ARN: "arn:aws:states:eu-central-1:111122223333:execution:ir:inc-1" },
      "STATE_MACHINE_ARN",
    ],
  ];
  it("accepts IPv6 forensic sources (the stack passes them) and refuses an IPv6 /0 or a non-address", () => {
    const sources = ["192.0.2.0/24", "2001:db8:1234::/48"];
    expect(
      parseSettings({ ...TEST_ENV, FORENSIC_SOURCE_CIDRS: JSON.stringify(sources) }).forensicSourceCidrs,
    ).to.deep.equal(sources);
    for (const refused of ["::/0", ":::/64", "999.999.999.999/99", "2001:db8::/129"])
      expect(
        () => parseSettings({ ...TEST_ENV, FORENSIC_SOURCE_CIDRS: JSON.stringify([refused]) }),
        refused,
      ).to.throw(InvalidSettingError, "FORENSIC_SOURCE_CIDRS");
  });
  for (const [name, change, variable] of bad) {
    it(`fails loudly on ${name}, naming ${variable}`, () => {
      const env = { ...TEST_ENV, ...change };
      expect(() => parseSettings(env)).to.throw(InvalidSettingError, variable);
    });
  }

  it("names the variable and the reason in the error", () => {
    const reasons: [Record<string, string>, string][] = [
      [{ SEVERITY_THRESHOLD: "11" }, 'setting SEVERITY_THRESHOLD: must be a number from 0 to 10, got "11"'],
      [{ DRY_RUN: "Yes" }, 'setting DRY_RUN: must be "true" or "false", got "yes"'],
      [
        { SNAPSHOT_LOCK: "strict" },
        'setting SNAPSHOT_LOCK: must be one of none, governance, compliance, got "strict"',
      ],
      [{ FORENSIC_AMI_ID: "image-1" }, 'setting FORENSIC_AMI_ID: "image-1" does not match ^ami-[0-9a-f]+$'],
      [
        { FORENSIC_SOURCE_CIDRS: '["0.0.0.0/0"]' },
        "0.0.0.0/0 would open the isolation group to the whole Internet",
      ],
      [{ VPC_SECURITY_GROUPS: "{vpc-1:" }, "setting VPC_SECURITY_GROUPS: is not valid JSON ("],
    ];
    for (const [change, reason] of reasons)
      expect(() => parseSettings({ ...TEST_ENV, ...change })).to.throw(InvalidSettingError, reason);
    expect(() => parseSettings({ ...TEST_ENV, FORENSIC_AMI_ID: " " })).to.throw(
      "setting FORENSIC_AMI_ID: is required",
    );
  });

  it("trims values and reads flags in any case", () => {
    const settings = parseSettings({ ...TEST_ENV, DRY_RUN: " TRUE ", INCIDENT_TABLE: " incidents\n" });
    expect(settings).to.deep.include({ dryRun: true, incidentTable: "incidents" });
  });

  it("reads a JSON value the stack compressed to fit Lambda's 4 KB environment", () => {
    const groups = { "vpc-1": { untrack: "sg-1", isolation: "sg-2", forensic: "sg-3" } };
    const packed = "br:" + brotliCompressSync(JSON.stringify(groups)).toString("base64");
    expect(parseSettings({ ...TEST_ENV, VPC_SECURITY_GROUPS: packed }).vpcSecurityGroups).to.deep.equal(
      groups,
    );
  });

  it("writes an environment that parses back to the same settings, leaving out what keeps its default", () => {
    const settings: Settings = {
      ...parseSettings(TEST_ENV),
      severityThreshold: 4.5,
      vpcSecurityGroups: { "vpc-1": { untrack: "sg-1", isolation: "sg-2", forensic: "sg-3" } },
      forensicSourceCidrs: ["192.0.2.0/24"],
      forensicSubnets: { "eu-central-1a": "subnet-1" },
      dryRun: true,
      snapshotLock: "governance",
      snapshotLockDays: 7,
      replacement: "launch",
      replacementPassableRoleArns: ["arn:aws:iam::111122223333:role/web"],
      cutTrackedConnections: false,
      pollIntervalSeconds: 0.5,
    };
    expect(parseSettings(settingsEnvironment(settings))).to.deep.equal(settings);
    expect(settingsEnvironment({ ...settings, region: undefined })).to.not.have.property("AWS_REGION");
  });

  it("scales every duration, set or default, and nothing else", () => {
    expect(scaledDurations({ ...TEST_ENV, POLL_INTERVAL_SECONDS: "5" }, 10)).to.deep.equal({
      POLL_INTERVAL_SECONDS: "0.5",
      STOP_TIMEOUT_SECONDS: "30",
      MEMORY_GRACE_BASE_SECONDS: "6",
      MEMORY_GRACE_SECONDS_PER_GIB: "1",
      MAX_POLL_INTERVAL_SECONDS: "6",
      TRIAGE_TIMEOUT_SECONDS: "180",
    });
  });

  it("triage: off without a document; its time bound scaled, what ir-triage is given not; a bad value refused", () => {
    expect(parseSettings(TEST_ENV)).to.deep.include({
      triageDocument: "",
      triageTimeoutSeconds: 1800,
      triageHashBudgetSeconds: 600,
      triageTimelineHours: 72,
    });
    expect(
      parseSettings({ ...TEST_ENV, TRIAGE_DOCUMENT: "ir-triage-document-1a2b" }).triageDocument,
    ).to.equal("ir-triage-document-1a2b");
    for (const [variable, bad] of [
      ["TRIAGE_DOCUMENT", "no spaces allowed"],
      ["TRIAGE_TIMEOUT_SECONDS", "0"],
      ["TRIAGE_HASH_BUDGET_SECONDS", "-1"],
      ["TRIAGE_TIMELINE_HOURS", "0"],
    ] as const)
      expect(() => parseSettings({ ...TEST_ENV, [variable]: bad }), variable).to.throw(
        InvalidSettingError,
        new RegExp(variable),
      );
  });

  it("REPLACEMENT_PASSABLE_ROLE_ARNS: a JSON list of role ARNs, default empty; anything else is refused at cold start", () => {
    expect(parseSettings(TEST_ENV).replacementPassableRoleArns).to.deep.equal([]);
    const role = "arn:aws:iam::111122223333:role/path/web-app";
    expect(
      parseSettings({ ...TEST_ENV, REPLACEMENT_PASSABLE_ROLE_ARNS: JSON.stringify([role]) })
        .replacementPassableRoleArns,
    ).to.deep.equal([role]);
    for (const bad of ['["arn:aws:iam::111122223333:instance-profile/web"]', '"role"', "[1]", "not json"])
      expect(() => parseSettings({ ...TEST_ENV, REPLACEMENT_PASSABLE_ROLE_ARNS: bad }), bad).to.throw(
        InvalidSettingError,
        /REPLACEMENT_PASSABLE_ROLE_ARNS/,
      );
  });
});
