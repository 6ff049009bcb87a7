// Final-state assertions shared by the scenarios: what the simulated account and the incident record must
// show after a response. They read state (sim.state, the incident table), never log text.
import { createHash } from "crypto";

import { expect } from "chai";

import type { IncidentRecord } from "../../handler/incidentRecord";
import { STEP_NAMES } from "../../handler/incidentRecord";
import type { Harness } from "../../testkit/harness";

export function callsNaming(harness: Harness, id: string, action?: string) {
  return harness.sim.calls.filter(
    (call) => (action === undefined || call.action === action) && JSON.stringify(call.params).includes(id),
  );
}

/** The responder never terminates an instance and never deletes a volume or a snapshot. */
export function expectNothingDestroyed(harness: Harness, terminatedByTheTest: readonly string[] = []): void {
  const destructive = harness.sim.calls
    .filter((call) => ["TerminateInstances", "DeleteVolume", "DeleteSnapshot"].includes(call.action))
    .filter((call) => !terminatedByTheTest.some((id) => JSON.stringify(call.params).includes(id)));
  expect(destructive, "destructive calls").to.deep.equal([]);
}

export async function completedRecord(harness: Harness, instanceId: string): Promise<IncidentRecord> {
  const record = await harness.record(instanceId);
  expect(record, "incident record").to.not.equal(undefined);
  expect(record!.status).to.equal("completed");
  for (const step of STEP_NAMES) {
    expect(["done", "failed", "skipped"], `step ${step}: ${JSON.stringify(record!.steps[step])}`).to.include(
      record!.steps[step]?.status,
    );
  }
  return record!;
}

/** Every ENI of the instance sits in its VPC's isolation group and nothing else. */
export function expectIsolated(harness: Harness, instanceId: string, isolationGroup: string): void {
  const instance = harness.sim.state.instance(instanceId)!;
  expect(instance.networkInterfaceIds.length).to.be.greaterThan(0);
  for (const eniId of instance.networkInterfaceIds) {
    expect(harness.sim.state.networkInterface(eniId)!.groupIds, eniId).to.deep.equal([isolationGroup]);
  }
}

/** Every ENI went through the untrack group before the isolation group (tracked connections are cut). */
export function expectUntrackHopFirst(
  harness: Harness,
  instanceId: string,
  untrack: string,
  isolation: string,
): void {
  const instance = harness.sim.state.instance(instanceId)!;
  for (const eniId of instance.networkInterfaceIds) {
    const moves = harness.sim.calls
      .filter(
        (call) =>
          call.action === "ModifyNetworkInterfaceAttribute" && call.params.NetworkInterfaceId === eniId,
      )
      .filter((call) => call.status === 200)
      .map((call) => JSON.stringify(call.params.Groups));
    const firstIsolation = moves.findIndex((groups) => groups.includes(isolation));
    expect(firstIsolation, `${eniId} moves ${moves.join(" ")}`).to.be.greaterThan(0);
    expect(moves[firstIsolation - 1]).to.include(untrack);
  }
}

export function expectAccessCut(
  harness: Harness,
  instanceId: string,
  quarantineArn: string,
  roleName?: string,
): void {
  const { state } = harness.sim;
  const instance = state.instance(instanceId)!;
  expect(instance.disableApiTermination, "termination protection").to.equal(true);
  expect(instance.metadataOptions.httpEndpoint, "IMDS").to.equal("disabled");
  expect(instance.tags.get("ir:incident"), "incident tag").to.match(/^inc-/);
  if (instance.rootDeviceType === "ebs") expect(instance.shutdownBehavior).to.equal("stop");
  const association = state
    .iamInstanceProfileAssociations()
    .find(
      (candidate) =>
        candidate.instanceId === instanceId && ["associated", "associating"].includes(candidate.state),
    );
  expect(association?.instanceProfileArn, "instance profile").to.equal(quarantineArn);
  if (roleName !== undefined) {
    const policy = state.rolePolicies(roleName)["ir-revoke-older-sessions"];
    expect(policy, "session revocation policy").to.be.a("string");
    expect(policy).to.include("aws:TokenIssueTime");
  }
}

/** Evidence objects are in the bucket and their bytes hash to the SHA-256 recorded in the incident. */
export function expectEvidenceIntact(harness: Harness, record: IncidentRecord, kinds: string[]): void {
  const evidence = record.facts.evidence ?? [];
  expect(evidence.map((object) => object.kind)).to.include.members(kinds);
  for (const object of evidence) {
    const stored = harness.sim.state.object(harness.world.bucket, object.key);
    expect(stored, object.key).to.not.equal(undefined);
    expect(createHash("sha256").update(stored!.body).digest("hex"), object.key).to.equal(object.sha256);
  }
}

export function expectSnapshotsOf(
  harness: Harness,
  record: IncidentRecord,
  volumeCount: number,
  locked: boolean,
): void {
  const ofIncident = harness.sim.state
    .snapshots()
    .filter((snapshot) => snapshot.tags.get("ir:incident") === record.incidentId);
  const sets = { "as-found": record.facts.asFoundSnapshots, "after-stop": record.facts.snapshots };
  for (const [set, recorded] of Object.entries(sets)) {
    const snapshots = ofIncident.filter((snapshot) => snapshot.tags.get("ir:evidence-set") === set);
    expect(snapshots.length, `${set} snapshots tagged with the incident`).to.equal(volumeCount);
    expect(recorded?.map((snapshot) => snapshot.snapshotId).sort(), set).to.deep.equal(
      snapshots.map((snapshot) => snapshot.snapshotId).sort(),
    );
    for (const snapshot of snapshots)
      expect(snapshot.lock !== undefined, `lock on ${snapshot.snapshotId}`).to.equal(locked);
    // One CreateSnapshots call per set: one point in time for all volumes.
    expect(new Set(snapshots.map((snapshot) => snapshot.startTime)).size, set).to.be.at.most(1);
  }
  expect(ofIncident.length, "no snapshot outside the two sets").to.equal(2 * volumeCount);
  // The disks as found: requested before anything that could change them.
  const first = (action: string) => {
    const call = callsNaming(harness, record.instanceId, action)[0];
    return call === undefined ? undefined : harness.sim.calls.indexOf(call);
  };
  const asFound = first("CreateSnapshots");
  for (const change of ["SendDiagnosticInterrupt", "StopInstances"]) {
    const at = first(change);
    if (at !== undefined) expect(asFound, `CreateSnapshots before ${change}`).to.be.below(at);
  }
}

/** The forensic instance: responder-made, same AZ as the evidence, every evidence volume attached. */
export function expectForensicWorkspace(
  harness: Harness,
  record: IncidentRecord,
  expectedVolumes: number,
): string {
  const { state } = harness.sim;
  const forensicId = record.facts.forensic?.instanceId;
  expect(forensicId, "forensic instance").to.be.a("string");
  const forensic = state.instance(forensicId!)!;
  expect(forensic.tags.get("ir:responder-made")).to.equal("forensic");
  expect(forensic.tags.get("ir:incident")).to.equal(record.incidentId);
  expect(forensic.availabilityZone).to.equal(record.facts.instance?.availabilityZone);
  const attached = state
    .volumes()
    .filter(
      (volume) =>
        volume.attachment?.instanceId === forensicId && volume.attachment?.device !== forensic.rootDeviceName,
    );
  expect(attached.length, "evidence volumes on the workstation").to.equal(expectedVolumes);
  expect(new Set(attached.map((volume) => volume.attachment?.device)).size).to.equal(expectedVolumes);
  for (const volume of attached) expect(volume.availabilityZone).to.equal(forensic.availabilityZone);
  return forensicId!;
}

/** The report notifications of an incident (interruption notices excluded). */
/** The report's notifications of an incident (not the isolation notice, not interruption notices). */
export function notificationFor(harness: Harness, incidentId: string) {
  return harness.sim.state
    .messages(harness.world.topicArn)
    .filter(
      (message) =>
        message.message.includes(incidentId) &&
        !isInterruption(message.message) &&
        !isIsolationNotice(message.message),
    );
}

/** The notices sent as soon as an incident's execution started. */
export function isolationNoticesOf(harness: Harness, incidentId: string) {
  return harness.sim.state
    .messages(harness.world.topicArn)
    .filter((message) => message.message.includes(incidentId) && isIsolationNotice(message.message));
}

function isIsolationNotice(message: string): boolean {
  return /^(DRY RUN \(nothing was changed\)\. )?ISOLATED: /.test(message);
}

/** The notices sent when an invocation gave up and threw (Lambda retries it). */
export function interruptionsOf(harness: Harness, incidentId: string) {
  return harness.sim.state
    .messages(harness.world.topicArn)
    .filter((message) => message.message.includes(incidentId) && isInterruption(message.message));
}

function isInterruption(message: string): boolean {
  return message.startsWith("RESPONSE INTERRUPTED");
}

/**
 * A late rejection (the live instance refused the response after the claim): the incident is recorded as released
 * with the reason, every ENI is back in the groups it had before, and nothing but those ENI moves was changed.
 */
export async function expectReleased(
  harness: Harness,
  instanceId: string,
  reason: string,
  originalGroups: Readonly<Record<string, readonly string[]>>,
  sinceCall: number,
): Promise<IncidentRecord> {
  const record = await harness.record(instanceId);
  expect(record, "incident record").to.not.equal(undefined);
  expect(record!.status).to.equal("released");
  expect(record!.facts.release?.reason).to.equal(reason);
  expect(record!.steps.isolateNetwork?.status).to.equal("done");
  expect(record!.steps.isolateNetwork?.outcome).to.match(/^released/);
  expect(record!.steps.acceptEvent?.outcome).to.include(`rejected on the live instance (${reason})`);
  for (const step of STEP_NAMES.filter(
    (name) => !["acceptEvent", "claimIncident", "isolateNetwork"].includes(name),
  ))
    expect(record!.steps[step], `step ${step}`).to.equal(undefined);
  for (const [eniId, groups] of Object.entries(originalGroups)) {
    const eni = harness.sim.state.networkInterface(eniId);
    if (eni !== undefined) expect(eni.groupIds, `${eniId} back in its original groups`).to.deep.equal(groups);
  }
  const enis = new Set(Object.keys(originalGroups));
  const changes = harness.sim.calls
    .slice(sinceCall)
    // The incident record itself (DynamoDB, through the simulator's front) is asserted above.
    .filter(
      (call) => call.status === 200 && call.service !== "dynamodb" && !/^(Describe|Get)/.test(call.action),
    );
  expect(
    changes.filter(
      (call) =>
        call.action !== "ModifyNetworkInterfaceAttribute" ||
        !enis.has(String(call.params.NetworkInterfaceId)),
    ),
    "no change but the ENI moves",
  ).to.deep.equal([]);
  return record!;
}
