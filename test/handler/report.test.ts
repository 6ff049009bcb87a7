// The pure decisions of report (handler/steps/report.ts), tested without AWS.
import { expect } from "chai";

import { recordProblem, type IncidentRecord } from "../../handler/incidentRecord";
import { milestones, notificationOf, problemsOf, timelineOf } from "../../handler/steps/report";
import { instanceFacts } from "./instanceFacts";

describe("handler: report", () => {
  const record = {
    incidentId: "inc-20261120T081403Z-i-0123abcd4567ef890",
    instanceId: "i-0123abcd4567ef890",
    createdAt: "2026-11-20T08:14:03.000Z",
    dryRun: false,
    finding: { type: "Backdoor:EC2/C&CActivity.B!DNS", severity: 8.9, title: "C&C" },
    findings: {},
    status: "completed",
    steps: {
      isolateNetwork: {
        status: "done",
        startedAt: "2026-11-20T08:14:03.100Z",
        endedAt: "2026-11-20T08:14:04.200Z",
        outcome: "2 ENIs isolated",
        attempts: 1,
      },
      snapshotAsFound: {
        status: "done",
        startedAt: "2026-11-20T08:14:04.300Z",
        endedAt: "2026-11-20T08:14:04.900Z",
        outcome: "1 snapshot as found, taken together",
        attempts: 1,
      },
      captureMemory: {
        status: "failed",
        startedAt: "2026-11-20T08:14:05.000Z",
        endedAt: "2026-11-20T08:14:06.000Z",
        outcome: "memory capture failed: boom",
        attempts: 1,
      },
      snapshotVolumes: {
        status: "done",
        startedAt: "2026-11-20T08:14:30.000Z",
        endedAt: "2026-11-20T08:14:33.000Z",
        outcome: "2 snapshots",
        attempts: 1,
      },
    },
    facts: {
      instance: instanceFacts(),
      asFoundSnapshots: [{ volumeId: "vol-1", snapshotId: "snap-0", locked: true }],
      snapshots: [{ volumeId: "vol-1", snapshotId: "snap-1", locked: true }],
      memory: { method: "nmi", reason: "capture failed: boom" },
    },
  } as unknown as IncidentRecord;
  it("timeline in start order, with durations", () => {
    expect(timelineOf(record).map((entry) => [entry.step, entry.seconds])).to.deep.equal([
      ["isolateNetwork", 1.1],
      ["snapshotAsFound", 0.6],
      ["captureMemory", 1],
      ["snapshotVolumes", 3],
    ]);
  });
  it("milestones from the handler receiving the finding", () => {
    expect(milestones(record)).to.deep.include({ isolated: 1.2, asFoundSecured: 1.9, evidenceSecured: 30 });
  });
  it("memory captured only when the NMI's kdump powered the instance off", () => {
    expect(milestones(record).memoryCaptured, "the capture failed").to.equal(undefined);
    const captureMemory = { ...record.steps.captureMemory!, status: "done" as const, outcome: "NMI sent" };
    const withDump = { ...record, steps: { ...record.steps, captureMemory } };
    const poweredOff = { method: "nmi" as const, reason: "kdump-ready", poweredOff: true };
    expect(
      milestones({ ...withDump, facts: { ...record.facts, memory: poweredOff } }).memoryCaptured,
    ).to.equal(3);
    const noPowerOff = { ...poweredOff, poweredOff: false };
    expect(
      milestones({ ...withDump, facts: { ...record.facts, memory: noPowerOff } }).memoryCaptured,
    ).to.equal(undefined);
  });
  it("the notification names the instance, the finding, the problems and where the report is", () => {
    const notification = notificationOf(record, "evidence");
    expect(problemsOf(record)).to.deep.equal(["captureMemory: memory capture failed: boom"]);
    expect(notification.subject).to.equal(
      "[IR] Contained i-0123abcd4567ef890 (web-1): Backdoor:EC2/C&CActivity.B!DNS",
    );
    expect(notification.message).to.match(
      /^CONTAINED WITH PROBLEMS: i-0123abcd4567ef890 \(web-1\) in eu-central-1a\n/,
    );
    expect(notification.message).to.include("Isolated after 1.2 s.");
    expect(notification.message).to.include("1 snapshot(s) as found, 1 after the stop (locked)");
    expect(notification.message).to.include("Problems: captureMemory: memory capture failed: boom.");
    expect(notification.message).to.include(
      "s3://evidence/incidents/inc-20261120T081403Z-i-0123abcd4567ef890/report.md",
    );
  });

  it("the notification says who started a manual response, why, and whether they overrode the exclusion", () => {
    const manual = {
      ...record,
      trigger: {
        kind: "manual",
        requestedBy: "arn:aws:sts::123456789012:assumed-role/responders/alice",
        reason: "beaconing seen in the proxy logs",
        overrideExclusion: true,
      },
    } as IncidentRecord;
    expect(notificationOf(manual, "evidence").message).to.include(
      "Why: started by hand by arn:aws:sts::123456789012:assumed-role/responders/alice (exclusion tag overridden): " +
        "beaconing seen in the proxy logs\n",
    );
    expect(notificationOf(record, "evidence").message).to.include(
      "Why: Backdoor:EC2/C&CActivity.B!DNS, severity",
    );
  });

  it("problems recorded by a step are listed once in the report's problems", () => {
    const record = { steps: {}, facts: {} } as unknown as IncidentRecord;
    recordProblem(record.facts, "cutAccess", "termination protection refused");
    recordProblem(record.facts, "cutAccess", "termination protection refused");
    expect(problemsOf(record)).to.deep.equal(["cutAccess: termination protection refused"]);
  });
});
