// Resilience of the response: duplicates, repeats, crashes with Lambda's and the state machine's retries,
// throttling, waits in the state machine, dry run and the snapshot-copies wait. Final state and the incident record are asserted; never log text.
import { randomUUID } from "crypto";

import { expect } from "chai";

import type { FaultRule } from "../../simulator";
import { DynamoDB } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocument } from "@aws-sdk/lib-dynamodb";

import type { IncidentRecord, StepRecord } from "../../handler/incidentRecord";
import { IncidentStore, PassSupersededError } from "../../handler/incidentStore";
import { WORKFLOW_STEP_NAMES, type StepTask } from "../../handler/workflow";
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
import { startHarness, stopDynamo, type Harness } from "../../testkit/harness";

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

/** The steps of the finding's own invocation: a crash there is carried on by Lambda's retry (same request id). */
const CONTAINMENT_STEPS = ["claimIncident", "isolateNetwork"] as const;

/**
 * The incident's execution as the simulator ran it: the Task passes the responder answered or failed (from the
 * Lambda invocations the state machine made) and the Wait states per step (from the execution's history).
 */
function execution(harness: Harness, record: IncidentRecord) {
  const tasks = harness.sim.state.invocations().flatMap((invocation) => {
    const task = (invocation.payload as Partial<StepTask> | undefined)?.["ir:step"];
    return task?.incidentId === record.incidentId && task.failure === undefined
      ? [{ step: task.step, outcome: invocation.outcome }]
      : [];
  });
  const passes: Record<string, number> = {};
  for (const task of tasks)
    if (task.outcome === "succeeded") passes[task.step] = (passes[task.step] ?? 0) + 1;
  const history = harness.sim.stepFunctions.execution(record.execution?.arn ?? "")?.history ?? [];
  const waits: Record<string, number> = {};
  const waitAnswers: Record<string, number> = {};
  for (const event of history) {
    const succeeded = (event as { taskSucceededEventDetails?: { output?: string } })
      .taskSucceededEventDetails;
    const answer = succeeded?.output === undefined ? undefined : waitingAnswer(succeeded.output);
    if (answer !== undefined) waitAnswers[answer] = (waitAnswers[answer] ?? 0) + 1;
    const entered = (event as { stateEnteredEventDetails?: { name?: string } }).stateEnteredEventDetails;
    if (event.type === "WaitStateEntered" && entered?.name?.endsWith(": wait") === true) {
      const step = entered.name.slice(0, -": wait".length);
      waits[step] = (waits[step] ?? 0) + 1;
    }
  }
  return {
    failedTasks: tasks.filter((task) => task.outcome === "failed").map((task) => task.step),
    passes,
    waits,
    waitAnswers,
  };
}

/** The step whose Task answered "waiting", from the lambda:invoke result in a TaskSucceeded event. */
function waitingAnswer(output: string): string | undefined {
  const payload = (JSON.parse(output) as { Payload?: { step?: string; status?: string } }).Payload;
  return payload?.status === "waiting" ? payload.step : undefined;
}

/**
 * Makes the first Task of `step` run in a worker thread that is ended abruptly once `crashWhen` holds for the
 * step's entry in the record (or, if the pass ends first, whose answer is lost): the state machine sees the
 * function fail (Runtime.ExitError) and its Retry runs the pass again. Returns what happened to that Task.
 */
function crashTaskOnce(
  harness: Harness,
  instanceId: string,
  step: string,
  crashWhen: (entry: StepRecord | undefined) => boolean,
): () => string[] {
  const results: string[] = [];
  harness.interceptTasks(async (payload, run) => {
    const task = (payload as Partial<StepTask>)["ir:step"];
    if (task?.step !== step || task.failure !== undefined || results.length > 0) return run(payload);
    results.push("running");
    results[0] = await harness.invokeAndCrash(
      payload,
      randomUUID(),
      (record) => crashWhen(record?.steps[step as keyof IncidentRecord["steps"]]),
      instanceId,
    );
    throw Object.assign(new Error("Runtime exited with error: signal: killed"), {
      name: "Runtime.ExitError",
    });
  });
  return () => [...results];
}

/** After a crash and its retry: contained once, each side effect once. */
function expectNothingTwice(harness: Harness, created: { instanceId: string }, record: IncidentRecord): void {
  expectIsolated(harness, created.instanceId, harness.world.isolationGroup);
  expect(
    callsNaming(harness, created.instanceId, "SendDiagnosticInterrupt").length,
    "NMI at most once",
  ).to.be.at.most(1);
  expect(
    callsNaming(harness, created.instanceId, "CreateSnapshots"),
    "one request per snapshot set",
  ).to.have.length(2);
  expectSnapshotsOf(harness, record, 2, true);
  expect(launchesOf(harness, record, "forensic"), "one forensic instance").to.have.length(1);
  expect(launchesOf(harness, record, "replacement"), "one replacement").to.have.length(1);
  expectForensicWorkspace(harness, record, 2);
  // Notifications are at-least-once: a crash between the publish and its record sends a second.
  expect(notificationFor(harness, record.incidentId).length).to.be.within(1, 2);
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
      expect(
        callsNaming(harness, created.instanceId, "CreateSnapshots"),
        "as found, after the stop",
      ).to.have.length(2);
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
      expect(
        callsNaming(harness, created.instanceId, "CreateSnapshots"),
        "as found, after the stop",
      ).to.have.length(2);

      // After completion, another finding is still recorded, and still not answered.
      const late = await harness.invoke(
        sim.scenario.findingFor(created.instanceId, { severity: 9, findingId: "finding-three" }),
      );
      expect(late).to.deep.include({ outcome: "appended", why: "completed" });
      expect(Object.keys((await harness.record(created.instanceId))!.findings)).to.have.length(3);
    });
  });

  describe("a crash in each step, then a retry (Lambda's or the state machine's): nothing twice", () => {
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
      // Two volumes: the as-found set's two locks come first, then the after-stop set's.
      { step: "snapshotAsFound", fault: denied("ec2", "LockSnapshot", 1) },
      { step: "snapshotVolumes", fault: denied("ec2", "LockSnapshot", 3) },
      { step: "attachEvidenceVolumes", fault: denied("ec2", "AttachVolume", 1) },
      // The isolation notice is the incident's first Publish; the report's comes after it.
      { step: "report", fault: denied("sns", "Publish", 1) },
    ];

    it("a failed replacement launch (RunInstances fails once) is recorded, not retried", async () => {
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
      const containment = step === "isolateNetwork";
      it(`a failure in ${step} (${fault.action} fails once): ${containment ? "Lambda's retry" : "the state machine's Retry"} carries it on; nothing twice`, async () => {
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
        // Containment runs in the finding's invocation (Lambda retries it); every later step in a Task.
        expect(attempts, "invocations of the finding").to.equal(containment ? 2 : 1);
        const record = await completedRecord(harness, created.instanceId);
        expect(record.steps[step as keyof IncidentRecord["steps"]]?.attempts, `${step} attempts`).to.equal(2);
        expectIsolated(harness, created.instanceId, world.isolationGroup);
        expect(callsNaming(harness, created.instanceId, "SendDiagnosticInterrupt")).to.have.length(1);
        expect(
          callsNaming(harness, created.instanceId, "CreateSnapshots"),
          "as found, after the stop",
        ).to.have.length(2);
        expectSnapshotsOf(harness, record, 3, true);
        expect(launchesOf(harness, record, "forensic"), "one forensic instance").to.have.length(1);
        expect(launchesOf(harness, record, "replacement"), "one replacement").to.have.length(1);
        expectForensicWorkspace(harness, record, 3);
        expect(notificationFor(harness, record.incidentId), "one notification").to.have.length(1);
        const interruptions = interruptionsOf(harness, record.incidentId);
        if (containment) {
          expect(interruptions, "one interruption notice").to.have.length(1);
          expect(interruptions[0]?.message).to.include("injected crash");
          expect(interruptions[0]?.message).to.match(/NOT YET ISOLATED/);
        } else {
          expect(interruptions, "a retried Task pages nobody").to.have.length(0);
          expect(execution(harness, record).failedTasks, "the failed pass is in the history").to.include(
            step,
          );
        }
      });
    }

    for (const step of CONTAINMENT_STEPS) {
      it(`hard crash (invocation ended abruptly) right after ${step} is saved: Lambda's retry carries the containment on, nothing twice`, async () => {
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

        expect(first, "the invocation was ended before it finished").to.equal("crashed");
        expect(retry.outcome).to.equal("completed");
        expectNothingTwice(harness, created, await completedRecord(harness, created.instanceId));
      });
    }

    for (const step of [...WORKFLOW_STEP_NAMES, "report" as const]) {
      for (const moment of ["started", "ended"] as const) {
        it(`a Task that crashes once its ${step} pass has ${moment === "started" ? "started (mid-step)" : "saved its end"}: the Retry runs it again, nothing twice`, async () => {
          const { sim, world } = harness;
          const created = sim.scenario.instance({
            subnetId: world.subnetA,
            imageId: world.kdumpImage,
            instanceProfile: world.appProfile.arn,
            dataVolumes: [{ sizeGiB: 4 }],
          });
          const crashes = crashTaskOnce(harness, created.instanceId, step, (entry) =>
            moment === "started"
              ? entry !== undefined
              : ["done", "failed", "skipped"].includes(entry?.status ?? ""),
          );
          try {
            const outcome = await harness.invoke(
              sim.scenario.findingFor(created.instanceId, { severity: 8 }),
            );
            expect(outcome.outcome).to.equal("completed");
          } finally {
            harness.interceptTasks(undefined);
          }

          // Mid-step, the pass is cut short; once it has saved its end it may finish first, and its answer is lost.
          expect(crashes(), "one pass was ended abruptly").to.deep.equal(
            moment === "started"
              ? ["crashed"]
              : crashes().filter((result) => ["crashed", "finished"].includes(result)),
          );
          expect(crashes()).to.have.length(1);
          const record = await completedRecord(harness, created.instanceId);
          expect(execution(harness, record).failedTasks).to.include(step);
          expectNothingTwice(harness, created, record);
        });
      }
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

    it("a containment whose invocation gave up before starting the execution: a later finding takes the claim over once it expired", async () => {
      const { sim, world } = harness;
      const created = sim.scenario.instance({ subnetId: world.subnetA, imageId: world.kdumpImage });
      const event = sim.scenario.findingFor(created.instanceId, { severity: 8 });
      // The first invocation fails after the claim (every retry too, say): its claim runs out with its
      // deadline, 5 x 300 ms here.
      sim.faults.add(denied("ec2", "ModifyNetworkInterfaceAttribute"));
      await harness.invoke(event, { invocationMs: 300 }).catch(() => undefined);
      sim.faults.clear();
      const stuck = await harness.record(created.instanceId);
      expect(stuck?.status).to.equal("responding");
      expect(stuck?.execution).to.equal(undefined);

      const early = await harness.invoke(event);
      expect(early, "while the claim may still be retried, a finding is only appended").to.deep.include({
        outcome: "appended",
        why: "running",
      });
      await new Promise((resolve) => setTimeout(resolve, 1_600));
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

    it("a slow kdump and a slow stop are waited for by the state machine: no Task runs while AWS works", async () => {
      // The kdump takes 100 s and the stop 250 s (simulated); each pass is a look, then a Wait state.
      const harness = await startHarness({
        simulator: { durations: { instanceStoppingMs: 250_000, instanceForceStoppingMs: 250_000 } },
      });
      try {
        const { sim, world } = harness;
        const created = sim.scenario.instance({
          subnetId: world.subnetA,
          imageId: world.kdumpImage,
          dataVolumes: [{ sizeGiB: 4 }],
        });

        const outcome = await harness.invoke(sim.scenario.findingFor(created.instanceId, { severity: 8 }));

        expect(outcome.outcome).to.equal("completed");
        const record = await completedRecord(harness, created.instanceId);
        const run = execution(harness, record);
        for (const step of ["captureMemory", "stopInstance"]) {
          expect(run.waits[step] ?? 0, `${step} waited in Wait states`).to.be.greaterThan(3);
          expect(run.passes[step], `${step}: one pass per wait, and the last`).to.equal(
            (run.waits[step] ?? 0) + 1,
          );
        }
        // Each pass looked and answered "waiting": the wait itself was a Wait state, with no Lambda running.
        expect(run.waitAnswers.captureMemory, "captureMemory answered waiting").to.equal(
          run.waits.captureMemory,
        );
        expect(callsNaming(harness, created.instanceId, "SendDiagnosticInterrupt")).to.have.length(1);
        expect(callsNaming(harness, created.instanceId, "StopInstances")).to.have.length(1);
        expect(
          callsNaming(harness, created.instanceId, "CreateSnapshots"),
          "as found, after the stop",
        ).to.have.length(2);
        expect(sim.state.instance(created.instanceId)!.state).to.equal("stopped");
        expectForensicWorkspace(harness, record, 2);
        expect(record.steps.captureMemory?.attempts, "passes after a wait continue the attempt").to.equal(1);
      } finally {
        await harness.stop();
      }
    });

    it("STOP_MODE graceful: a stop that hangs is forced after STOP_TIMEOUT_SECONDS", async () => {
      const harness = await startHarness({
        simulator: { durations: { instanceStoppingMs: 3_600_000 } },
        settings: { STOP_MODE: "graceful" },
      });
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

  describe("the state machine", () => {
    let harness: Harness;
    before(async () => (harness = await startHarness()));
    after(async () => {
      expectNothingDestroyed(harness);
      await harness.stop();
    });

    it("duplicate starts: a containment crashed right after StartExecution is carried on by its retry, and one execution runs", async () => {
      const { sim, world } = harness;
      const created = sim.scenario.instance({
        subnetId: world.subnetA,
        imageId: world.kdumpImage,
        instanceProfile: world.appProfile.arn,
        dataVolumes: [{ sizeGiB: 4 }],
      });
      const event = sim.scenario.findingFor(created.instanceId, { severity: 8 });
      const requestId = randomUUID();
      const started = (record: IncidentRecord | undefined) =>
        record !== undefined &&
        sim.stepFunctions.executions.some((execution) => execution.name === record.incidentId);

      const first = await harness.invokeAndCrash(event, requestId, started, created.instanceId);
      const retry = await harness.invoke(event, { requestId });

      expect(first).to.equal("crashed");
      expect(["completed", "appended"]).to.include(retry.outcome);
      await harness.settle();
      const record = await completedRecord(harness, created.instanceId);
      const named = sim.stepFunctions.executions.filter((execution) => execution.name === record.incidentId);
      expect(named, "one execution per incident").to.have.length(1);
      expect(record.execution?.arn).to.equal(named[0]?.executionArn);
      expectNothingTwice(harness, created, record);
    });

    it("a step that fails for good (every Task attempt fails) is recorded, and the response still reaches the report", async () => {
      const { sim, world } = harness;
      const created = sim.scenario.instance({
        subnetId: world.subnetA,
        imageId: world.kdumpImage,
        dataVolumes: [{ sizeGiB: 4 }],
      });
      harness.interceptTasks((payload, run) => {
        const task = (payload as Partial<StepTask>)["ir:step"];
        if (task?.step !== "captureEvidence" || task.failure !== undefined) return run(payload);
        return Promise.reject(Object.assign(new Error("evidence store unreachable"), { name: "Error" }));
      });
      let outcome: Awaited<ReturnType<Harness["invoke"]>>;
      try {
        outcome = await harness.invoke(sim.scenario.findingFor(created.instanceId, { severity: 8 }));
      } finally {
        harness.interceptTasks(undefined);
      }

      expect(outcome.outcome).to.equal("completed");
      const record = await completedRecord(harness, created.instanceId);
      expect(record.steps.captureEvidence?.status).to.equal("failed");
      expect(record.steps.captureEvidence?.outcome).to.match(
        /failed after the state machine's retries: Error: evidence store unreachable/,
      );
      expect(
        execution(harness, record).failedTasks.filter((step) => step === "captureEvidence"),
      ).to.have.length(5);
      // The other branches went on: the evidence is secured and on the workstation.
      expectSnapshotsOf(harness, record, 2, true);
      expectForensicWorkspace(harness, record, 2);
      const [notification] = notificationFor(harness, record.incidentId);
      expect(notification?.message).to.match(/Problems: .*captureEvidence/);
    });

    it("overlapping passes of one step (a Task retried while its first invocation still runs): the older pass can no longer write", async () => {
      const { sim, world, env } = harness;
      const created = sim.scenario.instance({ subnetId: world.subnetA, imageId: world.kdumpImage });
      const answered = await harness.invoke(sim.scenario.findingFor(created.instanceId, { severity: 8 }));
      expect(answered.outcome).to.equal("completed");
      // The responder's own table client, as the handler builds it (signed as its role).
      const documents = DynamoDBDocument.from(
        new DynamoDB({
          region: sim.region,
          endpoint: sim.endpoint,
          credentials: {
            accessKeyId: env.AWS_ACCESS_KEY_ID ?? "",
            secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? "",
          },
        }),
      );
      const store = new IncidentStore(documents, env.INCIDENT_TABLE ?? "");
      const loaded = async () => (await harness.record(created.instanceId))!;
      const write = async (pass: string, expected: string | undefined, outcome: string) => {
        const record = await loaded();
        record.steps.captureEvidence = { ...record.steps.captureEvidence!, pass, outcome };
        await store.save(record, {
          steps: ["captureEvidence"],
          facts: [],
          fence: { step: "captureEvidence", expected },
        });
      };
      const recorded = (await loaded()).steps.captureEvidence!;

      // The first pass (A) takes the entry over from the pass that ended it; a retry (B) that loaded the same
      // entry then fails to take it (the duplicate stops before any side effect) ...
      await write("pass-A", recorded.pass, "A started");
      await write("pass-B", recorded.pass, "B started").then(
        () => expect.fail("a second pass took the entry over from a stale look"),
        (error: Error) => expect(error).to.be.instanceOf(PassSupersededError),
      );
      // ... and once B has taken over from A, A's later saves fail instead of overwriting B's.
      await write("pass-B", "pass-A", "B started");
      await write("pass-A", "pass-A", "A ended").then(
        () => expect.fail("the older pass overwrote the newer one"),
        (error: Error) => expect(error).to.be.instanceOf(PassSupersededError),
      );
      expect((await loaded()).steps.captureEvidence).to.deep.include({
        pass: "pass-B",
        outcome: "B started",
      });
      documents.destroy();
    });

    it("a wait of hours: a 1 TiB volume's snapshot copied for about two hours in Wait states, far below the history quota", async () => {
      const slow = await startHarness({ timeScale: 2_000 });
      try {
        const copies = await slow.withSettings({ ATTACH_SNAPSHOT_COPIES: "true" });
        const { sim, world } = copies;
        const created = sim.scenario.instance({
          subnetId: world.subnetA,
          imageId: world.kdumpImage,
          dataVolumes: [{ sizeGiB: 1024 }],
        });

        const outcome = await copies.invoke(sim.scenario.findingFor(created.instanceId, { severity: 8 }));

        expect(outcome.outcome).to.equal("completed");
        const record = await completedRecord(copies, created.instanceId);
        const run = sim.stepFunctions.execution(record.execution?.arn ?? "")!;
        const hours = ((run.stopDate ?? 0) - run.startDate) / 3_600_000;
        expect(hours, "the execution lasted hours (simulated)").to.be.greaterThan(1.5);
        const passes = execution(copies, record).passes.attachEvidenceVolumes ?? 0;
        // Looks grow to a twentieth of the time waited, at most a minute apart: about 200 for two hours.
        expect(passes, "looks at the snapshots").to.be.within(20, 400);
        expect(run.history.length, "history events (quota 25,000)").to.be.lessThan(3_000);
        expect(record.facts.attachments?.map((attachment) => attachment.source)).to.deep.equal([
          "copy",
          "copy",
        ]);
      } finally {
        await slow.stop();
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

    it("snapshot copies: the state machine waits while EBS copies, then copies are attached, originals left", async () => {
      const copies = await harness.withSettings({ ATTACH_SNAPSHOT_COPIES: "true" });
      const { sim, world } = copies;
      const created = sim.scenario.instance({
        subnetId: world.subnetA,
        imageId: world.kdumpImage,
        dataVolumes: [{ sizeGiB: 20 }, { sizeGiB: 20 }],
      });

      const outcome = await copies.invoke(sim.scenario.findingFor(created.instanceId, { severity: 8 }));

      expect(outcome.outcome).to.equal("completed");
      const record = await completedRecord(copies, created.instanceId);
      expect(
        execution(copies, record).waits.attachEvidenceVolumes ?? 0,
        "waited for the snapshots",
      ).to.be.greaterThan(0);
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
      expect(callsNaming(copies, record.incidentId, "CreateVolume"), "one copy per snapshot").to.have.length(
        3,
      );
      expect(notificationFor(copies, record.incidentId)).to.have.length(1);
    });
  });
});

after(stopDynamo);
