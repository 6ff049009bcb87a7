// Resilience of the response: duplicates, repeats, crashes with retries, throttling, the time budget, dry run
// and the snapshot-copies wait. Final state and the incident record are asserted; never log text.
import { randomUUID } from "crypto";

import { expect } from "chai";

import type { FaultRule } from "../../drill/simulator";
import { STEP_NAMES, type IncidentRecord } from "../../handler/incidentRecord";
import {
  callsNaming,
  completedRecord,
  expectForensicWorkspace,
  expectIsolated,
  expectNothingDestroyed,
  expectSnapshotsOf,
  interruptionsOf,
  notificationFor,
} from "./assertions";
import { startHarness, stopDynamo, type Harness } from "./harness";

const MUTATIONS = [
  "ModifyNetworkInterfaceAttribute",
  "ModifyInstanceAttribute",
  "ModifyInstanceMetadataOptions",
  "CreateTags",
  "SendDiagnosticInterrupt",
  "StopInstances",
  "CreateSnapshots",
  "RunInstances",
  "CreateSecurityGroup",
];

function launchesOf(harness: Harness, record: IncidentRecord, kind: "forensic" | "replacement") {
  return harness.sim.state
    .instances()
    .filter(
      (instance) =>
        instance.tags.get("ir:incident") === record.incidentId &&
        instance.tags.get("ir:responder-made") === kind,
    );
}

describe("handler resilience", function () {
  this.timeout(90_000);

  describe("duplicates and repeats", () => {
    let harness: Harness;
    before(async () => (harness = await startHarness()));
    after(async () => {
      expectNothingDestroyed(harness);
      await harness.stop();
    });

    it("concurrent duplicate events: exactly one response", async () => {
      const { sim, world } = harness;
      const created = sim.scenario.instance({
        subnetId: world.subnetA,
        imageId: world.kdumpImage,
        dataVolumes: [{ sizeGiB: 4 }],
      });
      const event = sim.scenario.findingFor(created.instanceId, { severity: 8 });

      const outcomes = await Promise.all([
        harness.invoke(event),
        harness.invoke(event),
        harness.invoke(event),
      ]);

      expect(outcomes.map((outcome) => outcome.outcome).sort()).to.deep.equal([
        "appended",
        "appended",
        "completed",
      ]);
      const record = await completedRecord(harness, created.instanceId);
      expect(Object.keys(record.findings), "a duplicate delivery is not a new finding").to.have.length(1);
      expect(
        callsNaming(harness, created.networkInterfaceIds[0]!, "ModifyNetworkInterfaceAttribute"),
      ).to.have.length(2);
      expect(callsNaming(harness, created.instanceId, "SendDiagnosticInterrupt")).to.have.length(1);
      expect(callsNaming(harness, created.instanceId, "CreateSnapshots")).to.have.length(1);
      expect(launchesOf(harness, record, "forensic")).to.have.length(1);
      expect(notificationFor(harness, record.incidentId)).to.have.length(1);
    });

    it("a repeat finding during a running response is appended to the incident, not answered again", async () => {
      const { sim, world } = harness;
      const created = sim.scenario.instance({ subnetId: world.subnetA, imageId: world.kdumpImage });
      const first = harness.invoke(
        sim.scenario.findingFor(created.instanceId, { severity: 8, findingId: "finding-one" }),
      );
      for (
        let tries = 0;
        tries < 200 && (await harness.record(created.instanceId)) === undefined;
        tries += 1
      ) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }

      const repeat = await harness.invoke(
        sim.scenario.findingFor(created.instanceId, {
          severity: 9,
          findingId: "finding-two",
          type: "Backdoor:EC2/C&CActivity.B",
        }),
      );

      expect(repeat).to.deep.include({ outcome: "appended", why: "running" });
      expect((await first).outcome).to.equal("completed");
      const record = await completedRecord(harness, created.instanceId);
      expect(
        Object.values(record.findings)
          .map((finding) => finding.findingId)
          .sort(),
      ).to.deep.equal(["finding-one", "finding-two"]);
      expect(callsNaming(harness, created.instanceId, "CreateSnapshots")).to.have.length(1);

      // After completion, another finding is still recorded, and still not answered.
      const late = await harness.invoke(
        sim.scenario.findingFor(created.instanceId, { severity: 9, findingId: "finding-three" }),
      );
      expect(late).to.deep.include({ outcome: "appended", why: "completed" });
      expect(Object.keys((await harness.record(created.instanceId))!.findings)).to.have.length(3);
    });
  });

  describe("a crash in each step, then Lambda's retry: resumes, no duplicate side effects", () => {
    let harness: Harness;
    before(async () => (harness = await startHarness()));
    after(async () => {
      expectNothingDestroyed(harness);
      await harness.stop();
    });

    const denied = (service: string, action: string, skip = 0): FaultRule => ({
      service,
      action,
      skip,
      count: 1,
      fault: { type: "error", code: "UnauthorizedOperation", httpStatus: 403, message: "injected crash" },
    });
    const cases: { step: string; fault: FaultRule }[] = [
      { step: "isolateNetwork", fault: denied("ec2", "ModifyNetworkInterfaceAttribute", 1) },
      { step: "cutAccess", fault: denied("ec2", "ModifyInstanceMetadataOptions") },
      { step: "launchForensicInstance", fault: denied("ec2", "RunInstances") },
      { step: "stopInstance", fault: denied("ec2", "StopInstances") },
      { step: "snapshotVolumes", fault: denied("ec2", "LockSnapshot", 1) },
      { step: "attachEvidenceVolumes", fault: denied("ec2", "AttachVolume", 1) },
      { step: "report", fault: denied("sns", "Publish") },
    ];

    it("a failed replacement launch (RunInstances fails once) is recorded, not retried: the response completes in one invocation", async () => {
      const { sim, world } = harness;
      const created = sim.scenario.instance({
        subnetId: world.subnetA,
        imageId: world.kdumpImage,
        dataVolumes: [{ sizeGiB: 4 }, { sizeGiB: 4 }],
      });
      sim.faults.clear();
      sim.faults.add(denied("ec2", "RunInstances", 1));

      const { outcome, attempts } = await harness.invokeWithRetries(
        sim.scenario.findingFor(created.instanceId, { severity: 8 }),
      );
      sim.faults.clear();

      expect(outcome.outcome).to.equal("completed");
      expect(attempts, "no retry").to.equal(1);
      const record = await completedRecord(harness, created.instanceId);
      expect(record.steps.replacement?.status).to.equal("failed");
      expect(record.steps.replacement?.outcome).to.include("injected crash");
      expect(launchesOf(harness, record, "replacement"), "no replacement").to.have.length(0);
      expectSnapshotsOf(harness, record, 3, true);
      expectForensicWorkspace(harness, record, 3);
      expect(interruptionsOf(harness, record.incidentId), "no interruption notice").to.have.length(0);
      expect(notificationFor(harness, record.incidentId)[0]?.message).to.match(/Problems: .*replacement/);
    });

    for (const { step, fault } of cases) {
      it(`crash in ${step} (${fault.action} fails once): the retry resumes and completes`, async () => {
        const { sim, world } = harness;
        const created = sim.scenario.instance({
          subnetId: world.subnetA,
          imageId: world.kdumpImage,
          instanceProfile: world.appProfile.arn,
          dataVolumes: [{ sizeGiB: 4 }, { sizeGiB: 4 }],
        });
        sim.faults.clear();
        sim.faults.add(fault);

        const { outcome, attempts } = await harness.invokeWithRetries(
          sim.scenario.findingFor(created.instanceId, { severity: 8 }),
        );
        sim.faults.clear();

        expect(outcome.outcome).to.equal("completed");
        expect(attempts, "one failed attempt, one retry").to.equal(2);
        const record = await completedRecord(harness, created.instanceId);
        expect(record.steps[step as keyof IncidentRecord["steps"]]?.attempts, `${step} attempts`).to.equal(2);
        expectIsolated(harness, created.instanceId, world.isolationGroup);
        expect(callsNaming(harness, created.instanceId, "SendDiagnosticInterrupt")).to.have.length(1);
        expect(callsNaming(harness, created.instanceId, "CreateSnapshots")).to.have.length(1);
        expectSnapshotsOf(harness, record, 3, true);
        expect(launchesOf(harness, record, "forensic"), "one forensic instance").to.have.length(1);
        expect(launchesOf(harness, record, "replacement"), "one replacement").to.have.length(1);
        expectForensicWorkspace(harness, record, 3);
        expect(notificationFor(harness, record.incidentId), "one notification").to.have.length(1);
        const [interruption] = interruptionsOf(harness, record.incidentId);
        expect(interruptionsOf(harness, record.incidentId), "one interruption notice").to.have.length(1);
        expect(interruption?.message).to.include("injected crash");
        expect(interruption?.message).to.match(
          step === "isolateNetwork" ? /NOT YET ISOLATED/ : /Network: isolated/,
        );
      });
    }

    for (const step of STEP_NAMES) {
      it(`hard crash (invocation ended abruptly) right after ${step} is saved: the retry resumes, nothing twice`, async () => {
        const { sim, world } = harness;
        const created = sim.scenario.instance({
          subnetId: world.subnetA,
          imageId: world.kdumpImage,
          instanceProfile: world.appProfile.arn,
          dataVolumes: [{ sizeGiB: 4 }],
        });
        const event = sim.scenario.findingFor(created.instanceId, { severity: 8 });
        const requestId = randomUUID();

        const first = await harness.invokeAndCrash(
          event,
          requestId,
          (record) => ["done", "failed", "skipped"].includes(record?.steps[step]?.status ?? ""),
          created.instanceId,
        );
        // Lambda's retry of a crashed invocation carries the same request id.
        const retry = await harness.invoke(event, { requestId });

        // After the last step the worker may finish before the poll sees it; every other step is cut short.
        if (step !== "report")
          expect(first, "the invocation was ended before it finished").to.equal("crashed");
        expect(["completed", "appended"]).to.include(retry.outcome);
        const record = await completedRecord(harness, created.instanceId);
        expectIsolated(harness, created.instanceId, world.isolationGroup);
        expect(
          callsNaming(harness, created.instanceId, "SendDiagnosticInterrupt").length,
          "NMI at most once",
        ).to.be.at.most(1);
        expectSnapshotsOf(harness, record, 2, true);
        expect(launchesOf(harness, record, "forensic"), "one forensic instance").to.have.length(1);
        expect(launchesOf(harness, record, "replacement"), "one replacement").to.have.length(1);
        expectForensicWorkspace(harness, record, 2);
        // Notifications are at-least-once: a crash between the publish and its record sends a second.
        expect(notificationFor(harness, record.incidentId).length).to.be.within(1, 2);
      });
    }

    it("a crash between two ENIs' hops: the retry never moves an isolated ENI through the untrack group again", async () => {
      const { sim, world } = harness;
      const created = sim.scenario.instance({
        subnetId: world.subnetA,
        imageId: world.kdumpImage,
        extraNetworkInterfaces: [{ subnetId: world.subnetA2 }],
      });
      sim.faults.clear();
      // Calls 1-2: both untrack hops (in parallel); call 3: the first isolation hop; call 4 fails.
      sim.faults.add(denied("ec2", "ModifyNetworkInterfaceAttribute", 3));

      const { outcome, attempts } = await harness.invokeWithRetries(
        sim.scenario.findingFor(created.instanceId, { severity: 8 }),
      );
      sim.faults.clear();

      expect(outcome.outcome).to.equal("completed");
      expect(attempts).to.equal(2);
      expectIsolated(harness, created.instanceId, world.isolationGroup);
      const untrackMoves = created.networkInterfaceIds.map(
        (eniId) =>
          callsNaming(harness, eniId, "ModifyNetworkInterfaceAttribute").filter(
            (call) => call.status === 200 && JSON.stringify(call.params.Groups).includes(world.untrackGroup),
          ).length,
      );
      expect(
        untrackMoves.sort(),
        "one ENI re-hopped (it was never isolated), the isolated one not",
      ).to.deep.equal([1, 2]);
    });

    it("a crash that leaves the lease held: the next attempt waits for the lease to expire, then takes over", async () => {
      const { sim, world } = harness;
      const created = sim.scenario.instance({ subnetId: world.subnetA, imageId: world.kdumpImage });
      const event = sim.scenario.findingFor(created.instanceId, { severity: 8 });
      // The first invocation "dies" after the claim: its Lambda deadline is 300 ms away and it never released.
      sim.faults.add(denied("ec2", "ModifyNetworkInterfaceAttribute"));
      await harness.invoke(event, { invocationMs: 300 }).catch(() => undefined);
      sim.faults.clear();
      const stuck = await harness.record(created.instanceId);
      expect(stuck?.status).to.equal("responding");

      await new Promise((resolve) => setTimeout(resolve, 350));
      const outcome = await harness.invoke(event);

      expect(outcome.outcome).to.equal("completed");
      await completedRecord(harness, created.instanceId);
      expectIsolated(harness, created.instanceId, world.isolationGroup);
    });
  });

  describe("load and time", () => {
    it("a throttling storm (20% of EC2 calls throttled, tight buckets, 3 incidents at once): every instance contained", async () => {
      const harness = await startHarness({
        simulator: {
          throttling: {
            actions: {
              DescribeInstances: { capacity: 5, refillPerSecond: 2 },
              ModifyNetworkInterfaceAttribute: { capacity: 5, refillPerSecond: 2 },
            },
          },
        },
      });
      try {
        const { sim, world } = harness;
        const instances = Array.from({ length: 3 }, () =>
          sim.scenario.instance({ subnetId: world.subnetA, imageId: world.kdumpImage }),
        );
        // Adaptive retries slow the client down in wall time (as in Lambda): a moderate storm keeps the test short.
        sim.faults.add({ service: "ec2", probability: 0.2, fault: { type: "throttle" } });
        // Concurrent Lambda invocations run in separate containers: one responder (cold start) each.
        const containers = await Promise.all(instances.map(() => harness.withSettings({})));

        const outcomes = await Promise.all(
          instances.map((created, index) =>
            containers[index]!.invokeWithRetries(
              sim.scenario.findingFor(created.instanceId, { severity: 8 }),
            ),
          ),
        );

        sim.faults.clear();
        expect(outcomes.map((result) => result.outcome.outcome)).to.deep.equal(Array(3).fill("completed"));
        expect(
          sim.calls.filter((call) => call.errorCode === "RequestLimitExceeded").length,
          "the storm happened",
        ).to.be.greaterThan(10);
        for (const created of instances) {
          expectIsolated(harness, created.instanceId, world.isolationGroup);
          await completedRecord(harness, created.instanceId);
        }
        expectNothingDestroyed(harness);
      } finally {
        await harness.stop();
      }
    });

    it("eventual consistency and a race: two incidents at once in an unknown VPC share one on-demand pair", async () => {
      const harness = await startHarness({ simulator: { consistencyDelayMs: 3_000 } });
      try {
        const { sim } = harness;
        const vpc = sim.scenario.vpc({
          cidrBlock: "10.77.0.0/16",
          subnets: [{ availabilityZone: `${sim.region}a`, cidrBlock: "10.77.1.0/24" }],
        });
        const instances = [0, 1].map(() =>
          sim.scenario.instance({ subnetId: vpc.subnets[0]!.subnetId, imageId: harness.world.kdumpImage }),
        );
        const containers = await Promise.all(instances.map(() => harness.withSettings({})));

        const outcomes = await Promise.all(
          instances.map((created, index) =>
            containers[index]!.invokeWithRetries(
              sim.scenario.findingFor(created.instanceId, { severity: 8 }),
            ),
          ),
        );

        expect(outcomes.map((result) => result.outcome.outcome)).to.deep.equal(["completed", "completed"]);
        const isolation = sim.state
          .securityGroups()
          .filter((group) => group.vpcId === vpc.vpcId && group.tags.get("ir:role") === "isolation");
        expect(isolation).to.have.length(1);
        expect(isolation[0]!.egress, "no egress even when the new group was not yet visible").to.deep.equal(
          [],
        );
        for (const created of instances) expectIsolated(harness, created.instanceId, isolation[0]!.groupId);
        expectNothingDestroyed(harness);
      } finally {
        await harness.stop();
      }
    });

    it("time budget: a slow stop and a slow kdump continue in fresh invocations; nothing is sent twice", async () => {
      // Each invocation gets 1 s of wall time = 200 s simulated; the kdump takes 100 s and the stop 250 s.
      const harness = await startHarness({
        invocationMs: 1_000,
        simulator: { durations: { instanceStoppingMs: 250_000 } },
      });
      try {
        const { sim, world } = harness;
        const created = sim.scenario.instance({
          subnetId: world.subnetA,
          imageId: world.kdumpImage,
          dataVolumes: [{ sizeGiB: 4 }],
        });

        const first = await harness.invoke(sim.scenario.findingFor(created.instanceId, { severity: 8 }));
        await harness.settle();

        expect(first.outcome).to.equal("continued");
        const record = await completedRecord(harness, created.instanceId);
        expect(record.continuations).to.be.greaterThan(0);
        expect(
          harness.continuationOutcomes.some(
            (outcome) => !(outcome instanceof Error) && outcome.outcome === "completed",
          ),
        ).to.equal(true);
        const continuations = sim.state
          .invocations()
          .filter((invocation) => invocation.invocationType === "Event");
        expect(continuations.length).to.equal(record.continuations);
        expect(continuations[0]?.payload).to.deep.equal({ "ir:continue": { incidentId: record.incidentId } });
        expect(callsNaming(harness, created.instanceId, "SendDiagnosticInterrupt")).to.have.length(1);
        expect(callsNaming(harness, created.instanceId, "CreateSnapshots")).to.have.length(1);
        expect(sim.state.instance(created.instanceId)!.state).to.equal("stopped");
        expectForensicWorkspace(harness, record, 2);
      } finally {
        await harness.stop();
      }
    });

    it("a call that keeps hanging (connection held, then reset) cannot carry the invocation past its budget", async () => {
      const harness = await startHarness({ invocationMs: 1_000 });
      try {
        const { sim, world } = harness;
        const created = sim.scenario.instance({ subnetId: world.subnetA, imageId: world.kdumpImage });
        sim.faults.add({
          service: "ec2",
          action: "DescribeInstanceTypes",
          count: 4,
          fault: { type: "timeout", holdMs: 400 },
        });

        const first = await harness.invoke(sim.scenario.findingFor(created.instanceId, { severity: 8 }));
        await harness.settle();

        expect(first.outcome, "the SDK's retries were cut short by the budget gate").to.equal("continued");
        const record = await completedRecord(harness, created.instanceId);
        expect(record.continuations).to.be.greaterThan(0);
        expect(record.steps.captureMemory?.status, "the hang is not a failed capture").to.equal("done");
        expect(record.facts.memory?.method).to.equal("nmi");
      } finally {
        await harness.stop();
      }
    });

    it("a stop that hangs is forced after STOP_TIMEOUT_SECONDS", async () => {
      const harness = await startHarness({ simulator: { durations: { instanceStoppingMs: 3_600_000 } } });
      try {
        const { sim, world } = harness;
        const created = sim.scenario.instance({ subnetId: world.subnetA, imageId: world.plainImage });

        const outcome = await harness.invoke(sim.scenario.findingFor(created.instanceId, { severity: 8 }));

        expect(outcome.outcome).to.equal("completed");
        const record = await completedRecord(harness, created.instanceId);
        const stops = callsNaming(harness, created.instanceId, "StopInstances");
        expect(stops.map((call) => call.params.Force === true)).to.deep.equal([false, true]);
        expect(record.facts.stop?.forcedAt).to.be.a("string");
        expect(sim.state.instance(created.instanceId)!.state).to.equal("stopped");
      } finally {
        await harness.stop();
      }
    });
  });

  describe("options", () => {
    let harness: Harness;
    before(async () => (harness = await startHarness()));
    after(async () => {
      expectNothingDestroyed(harness);
      await harness.stop();
    });

    it("dry run: every EC2 change is sent with DryRun, nothing else changes, the report says what would have been done", async () => {
      const dry = await harness.withSettings({ DRY_RUN: "true" });
      const { sim, world } = dry;
      const targetGroupArn = sim.scenario.targetGroup({ name: "dry-tg", vpcId: world.vpcId, port: 80 });
      const created = sim.scenario.instance({
        subnetId: world.subnetA,
        securityGroupIds: [world.appGroup],
        imageId: world.kdumpImage,
        instanceProfile: world.appProfile.arn,
        targetGroupArns: [targetGroupArn],
      });
      const before = sim.calls.length;

      const outcome = await dry.invoke(sim.scenario.findingFor(created.instanceId, { severity: 8 }));

      expect(outcome.outcome).to.equal("completed");
      const calls = sim.calls.slice(before);
      const mutations = calls.filter((call) => MUTATIONS.includes(call.action));
      expect(mutations.length).to.be.greaterThan(5);
      for (const call of mutations) expect(call.params.DryRun, `${call.action} DryRun`).to.equal(true);
      const forbidden = [
        "DetachInstances",
        "DeregisterTargets",
        "RegisterTargets",
        "PutRolePolicy",
        "ReplaceIamInstanceProfileAssociation",
        "AttachVolume",
        "DetachVolume",
        "LockSnapshot",
      ];
      expect(
        calls.filter((call) => forbidden.includes(call.action)).map((call) => call.action),
      ).to.deep.equal([]);
      expect(sim.state.networkInterface(created.networkInterfaceIds[0]!)!.groupIds).to.deep.equal([
        world.appGroup,
      ]);
      expect(sim.state.instance(created.instanceId)!.state).to.equal("running");
      const record = await completedRecord(dry, created.instanceId);
      expect(record.dryRun).to.equal(true);
      expect(record.facts.wouldHave).to.include.members([
        `move ${created.networkInterfaceIds[0]} to ${world.untrackGroup}`,
        "send the diagnostic interrupt (NMI)",
      ]);
      const markdown = Buffer.from(
        sim.state.object(world.bucket, record.facts.report!.markdownKey)!.body,
      ).toString();
      expect(markdown).to.include("## Dry run: what would have been done");
      expect(notificationFor(dry, record.incidentId)[0]?.subject).to.match(/DRY RUN/);
      // A rehearsal never blocks the real response: the real responder still answers the same instance.
      const real = await harness.invoke(sim.scenario.findingFor(created.instanceId, { severity: 8 }));
      expect(real.outcome).to.equal("completed");
      expectIsolated(harness, created.instanceId, world.isolationGroup);
    });

    it("dry run in an unknown VPC: the on-demand groups are only checked (DryRun), never created", async () => {
      const dry = await harness.withSettings({ DRY_RUN: "true" });
      const { sim } = dry;
      const vpc = sim.scenario.vpc({
        cidrBlock: "10.55.0.0/16",
        subnets: [{ availabilityZone: `${sim.region}a`, cidrBlock: "10.55.1.0/24" }],
      });
      const created = sim.scenario.instance({
        subnetId: vpc.subnets[0]!.subnetId,
        imageId: dry.world.kdumpImage,
      });
      const groupsBefore = sim.state.securityGroups().length;

      const outcome = await dry.invoke(sim.scenario.findingFor(created.instanceId, { severity: 8 }));

      expect(outcome.outcome).to.equal("completed");
      expect(sim.state.securityGroups().length, "no group created").to.equal(groupsBefore);
      const creates = callsNaming(dry, vpc.vpcId, "CreateSecurityGroup");
      expect(creates.length).to.be.greaterThan(0);
      for (const call of creates) expect(call.params.DryRun).to.equal(true);
      const record = await completedRecord(dry, created.instanceId);
      expect(record.facts.wouldHave).to.include(`create isolation security group in ${vpc.vpcId}`);
      expect(record.steps.isolateNetwork?.detail?.wouldMoveToOnDemandGroups).to.deep.equal(
        created.networkInterfaceIds,
      );
    });

    it("snapshot copies: the response rests while EBS copies, resumes on the completion event, attaches copies, leaves originals", async () => {
      const copies = await harness.withSettings({
        ATTACH_SNAPSHOT_COPIES: "true",
        SNAPSHOT_WAIT_SECONDS: String(5 / 200),
      });
      const { sim, world } = copies;
      const created = sim.scenario.instance({
        subnetId: world.subnetA,
        imageId: world.kdumpImage,
        dataVolumes: [{ sizeGiB: 20 }, { sizeGiB: 20 }],
      });

      const first = await copies.invoke(sim.scenario.findingFor(created.instanceId, { severity: 8 }));

      expect(first.outcome).to.equal("waiting-for-snapshots");
      const resting = await copies.record(created.instanceId);
      expect(resting?.status).to.equal("waiting-for-snapshots");
      expect(notificationFor(copies, resting!.incidentId)[0]?.subject).to.match(/forensic copies pending/);

      await sim.sleep(300_000);
      const snapshots = resting!.facts.snapshots!;
      const completion = sim.scenario.snapshotsCompletedEvent(created.instanceId, snapshots);
      const resumed = await copies.invoke(completion);

      expect(resumed.outcome).to.equal("completed");
      const record = await completedRecord(copies, created.instanceId);
      expectForensicWorkspace(copies, record, 3);
      expect(record.facts.attachments?.map((attachment) => attachment.source)).to.deep.equal([
        "copy",
        "copy",
        "copy",
      ]);
      for (const attachment of record.facts.attachments ?? []) {
        expect(sim.state.volume(attachment.volumeId)!.tags.get("ir:incident")).to.equal(record.incidentId);
      }
      for (const volumeId of created.volumeIds) {
        expect(
          sim.state.volume(volumeId)!.attachment?.instanceId,
          "originals stay with the instance",
        ).to.equal(created.instanceId);
      }
      expect(notificationFor(copies, record.incidentId)).to.have.length(2);
    });
  });
});

after(stopDynamo);
