// What must hold after any response, however many faults it met: read from the simulated account's final
// state and the incident record, never from logs.
import { expect } from "chai";

import type { CreatedInstance } from "../../../simulator";
import type { IncidentRecord } from "../../../handler/incidentRecord";
import { executionName } from "../../../handler/workflow";
import {
  completedRecord,
  expectForensicWorkspace,
  expectNothingDestroyed,
  notificationFor,
} from "../../handler/assertions";
import type { Harness } from "../../../testkit/harness";

/** Actions that change nothing (by AWS's naming rule), so anything else counts as a mutation. */
export function isReadOnlyAction(action: string): boolean {
  return /^(Describe|Get|List|Head|Search)/.test(action);
}

export function instancesOfIncident(harness: Harness, incidentId: string, kind: "forensic" | "replacement") {
  return harness.sim.state
    .instances()
    .filter(
      (instance) =>
        instance.tags.get("ir:incident") === incidentId && instance.tags.get("ir:responder-made") === kind,
    );
}

export function snapshotsOfIncident(harness: Harness, incidentId: string) {
  return harness.sim.state.snapshots().filter((snapshot) => snapshot.tags.get("ir:incident") === incidentId);
}

export interface ResponseChecks {
  /** The quarantine profile the stack configured. */
  readonly quarantineProfileArn: string;
  /** Evidence reaches the workstation as the originals (default) or as copies made from the snapshots. */
  readonly evidence?: "original" | "copy";
  /** Snapshots of each volume: 1, unless a test pins a known defect's current behaviour. */
  readonly snapshotsPerVolume?: number;
}

/**
 * The response's end state: completed, as one execution of the state machine that succeeded, with its report
 * stored and sent; every ENI in its VPC's isolation group; access cut; no evidence lost (every volume still exists
 * and has exactly one snapshot of the incident); the diagnostic interrupt sent at most once; one forensic
 * workstation with every volume; at most one replacement; the instance never terminated, nothing deleted.
 */
export async function expectCorrectResponse(
  harness: Harness,
  created: CreatedInstance,
  checks: ResponseChecks,
): Promise<IncidentRecord> {
  const { sim } = harness;
  const record = await completedRecord(harness, created.instanceId);

  // The incident's execution (named by the incident: a retried start never starts a second) succeeded.
  const execution = sim.stepFunctions.execution(executionName(record.incidentId));
  expect(
    `${execution?.status} ${execution?.error ?? ""} ${execution?.cause ?? ""}`.trim(),
    "the incident's execution",
  ).to.equal("SUCCEEDED");
  expect(record.execution?.arn, "the record names its execution").to.equal(execution!.executionArn);

  // A report: stored (JSON and Markdown), final, and the notification the record names was sent.
  const report = record.facts.report;
  expect(record.steps.report?.status, "report step").to.equal("done");
  expect(report?.messageId, "the notification was sent").to.be.a("string");
  for (const key of [report!.jsonKey, report!.markdownKey])
    expect(sim.state.object(harness.world.bucket, key), `report object ${key}`).to.not.equal(undefined);
  expect(
    notificationFor(harness, record.incidentId).map((message) => message.messageId),
    "report notification",
  ).to.include(report!.messageId);

  // Contained: each ENI sits in exactly its VPC's isolation group.
  const pairs = record.facts.isolationGroups ?? {};
  for (const eniId of created.networkInterfaceIds) {
    const eni = sim.state.networkInterface(eniId);
    expect(eni, eniId).to.not.equal(undefined);
    expect(eni!.groupIds, `${eniId} groups`).to.deep.equal([pairs[eni!.vpcId]?.isolation]);
  }

  // Access cut.
  const instance = sim.state.instance(created.instanceId)!;
  expect(instance.disableApiTermination, "termination protection").to.equal(true);
  expect(instance.metadataOptions.httpEndpoint, "instance metadata service").to.equal("disabled");
  const association = sim.state
    .iamInstanceProfileAssociations()
    .find((candidate) => candidate.instanceId === created.instanceId && candidate.state !== "disassociated");
  expect(association?.instanceProfileArn, "instance profile").to.equal(checks.quarantineProfileArn);

  // Never terminated, nothing deleted.
  expect(["running", "stopping", "stopped"], "instance state").to.include(instance.state);
  expectNothingDestroyed(harness);

  // No evidence lost, none duplicated: every volume exists and has exactly one snapshot of the incident per set
  // (as found, after the stop), each recorded in its set's fact.
  const perVolume = checks.snapshotsPerVolume ?? 1;
  const ofIncident = snapshotsOfIncident(harness, record.incidentId);
  for (const volumeId of created.volumeIds) {
    const volume = sim.state.volume(volumeId);
    expect(volume?.state, `volume ${volumeId}`).to.be.oneOf(["available", "in-use"]);
  }
  const sets = { "as-found": record.facts.asFoundSnapshots, "after-stop": record.facts.snapshots };
  for (const [set, facts] of Object.entries(sets)) {
    const snapshots = ofIncident.filter((snapshot) => snapshot.tags.get("ir:evidence-set") === set);
    for (const volumeId of created.volumeIds)
      expect(
        snapshots.filter((snapshot) => snapshot.volumeId === volumeId).length,
        `${set} snapshots of ${volumeId}`,
      ).to.equal(perVolume);
    const recorded = facts?.map((snapshot) => snapshot.snapshotId) ?? [];
    expect(recorded.length, `recorded ${set} snapshots`).to.equal(created.volumeIds.length);
    const taken = new Set(snapshots.map((snapshot) => snapshot.snapshotId));
    for (const snapshotId of recorded) expect(taken.has(snapshotId), `recorded ${snapshotId}`).to.equal(true);
  }
  expect(ofIncident.length, "snapshots of the incident").to.equal(2 * perVolume * created.volumeIds.length);

  // At most one diagnostic interrupt reached the instance: a second one during the dump could cost it.
  const interrupts = sim.calls.filter(
    (call) =>
      call.action === "SendDiagnosticInterrupt" &&
      call.status === 200 &&
      JSON.stringify(call.params).includes(created.instanceId),
  );
  expect(interrupts.length, "diagnostic interrupts accepted").to.be.at.most(1);

  // One workstation with every volume; at most one replacement.
  expect(instancesOfIncident(harness, record.incidentId, "forensic"), "forensic instances").to.have.length(1);
  expect(instancesOfIncident(harness, record.incidentId, "replacement").length, "replacements").to.be.at.most(
    1,
  );
  expectForensicWorkspace(harness, record, created.volumeIds.length);
  if ((checks.evidence ?? "original") === "original") {
    for (const volumeId of created.volumeIds)
      expect(sim.state.volume(volumeId)!.attachment?.instanceId, `${volumeId} on the workstation`).to.equal(
        record.facts.forensic?.instanceId,
      );
  }
  return record;
}
