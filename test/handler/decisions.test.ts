// The pure decisions of every step, tested without AWS: given the record and what AWS said, what to do.
import { expect } from "chai";

import { clientToken } from "../../handler/clientToken";
import {
  incidentKey,
  instanceIdOfIncident,
  newIncidentId,
  type IncidentRecord,
  type InstanceFacts,
} from "../../handler/incidentRecord";
import { carriesClaim } from "../../handler/incidentStore";
import { instanceGoneError, InstanceGoneError } from "../../handler/errors";
import { undeclaredWrites } from "../../handler/stepTask";
import { executionConsoleUrl, executionName, workflowDependencies } from "../../handler/workflow";
import {
  configuredResponderGroupIds,
  desiredRules,
  flattenPermissions,
  isResponderGroup,
  responderGroupIdsNamedIn,
  ruleChanges,
  toPermission,
} from "../../handler/securityGroups";
import {
  memoryGraceMs,
  planMemoryCapture,
  type MemoryCaptureInputs,
} from "../../handler/steps/captureMemory";
import { attributeChanges } from "../../handler/steps/cutAccess/cutAccess";
import { instanceProfileNameOf, revokeSessionsPolicy } from "../../handler/steps/cutAccess/instanceProfile";
import {
  allocateDeviceNames,
  evidenceSource,
  forensicSubnetFor,
} from "../../handler/steps/forensicWorkspace";
import {
  interfacesNeedingIsolation,
  interfacesToIsolate,
  originalGroupsOf,
  usableFindingGroups,
  withOriginalGroups,
} from "../../handler/containment/interfaces";
import {
  isolationAttemptVerdict,
  isSoleInterface,
  throttledIsolationPauseMs,
} from "../../handler/containment/eniMoves";
import { configuredPair } from "../../handler/containment/isolation";
import type { InstanceFinding } from "../../handler/acceptance/finding";
import {
  planReplacement,
  replacementRequest,
  replacementTags,
} from "../../handler/steps/replacement/launchPlan";
import { milestones, notificationOf, problemsOf, timelineOf } from "../../handler/steps/report";
import { lockRequest } from "../../handler/steps/snapshotVolumes";
import { planStop } from "../../handler/steps/stopInstance";

const GRACE = { memoryGraceBaseSeconds: 60, memoryGraceSecondsPerGib: 4 };

const instanceFacts = (overrides: Partial<InstanceFacts> = {}): InstanceFacts => ({
  instanceType: "m6i.large",
  state: "running",
  availabilityZone: "eu-central-1a",
  subnetId: "subnet-a",
  vpcId: "vpc-1",
  imageId: "ami-1",
  rootDeviceType: "ebs",
  rootDeviceName: "/dev/xvda",
  hibernationConfigured: false,
  tags: { Name: "web-1", "aws:autoscaling:groupName": "asg", "ir:incident": "old" },
  networkInterfaces: [
    {
      networkInterfaceId: "eni-1",
      vpcId: "vpc-1",
      subnetId: "subnet-a",
      originalGroupIds: ["sg-app", "sg-mon"],
    },
  ],
  volumes: [{ volumeId: "vol-1", deviceName: "/dev/xvda", deleteOnTermination: true }],
  ...overrides,
});

describe("handler: pure decisions", () => {
  describe("device names on the forensic instance", () => {
    it("hands out the recommended EBS range first, skipping used slots and the root slot", () => {
      expect(allocateDeviceNames(["/dev/xvda"], 3)).to.deep.equal(["/dev/sdf", "/dev/sdg", "/dev/sdh"]);
      expect(allocateDeviceNames(["/dev/xvda", "/dev/xvdf", "/dev/sdg"], 2)).to.deep.equal([
        "/dev/sdh",
        "/dev/sdi",
      ]);
    });
    it("treats /dev/sdX and /dev/xvdX (and partitions) as the same slot", () => {
      expect(allocateDeviceNames(["/dev/sda1", "/dev/xvdf1"], 1)).to.deep.equal(["/dev/sdg"]);
    });
    it("never hands out slot a and stops at the end of the range", () => {
      const names = allocateDeviceNames([], 40);
      expect(names).to.have.length(25);
      expect(new Set(names).size).to.equal(25);
      expect(names).to.not.include("/dev/sda");
    });
  });

  describe("memory capture", () => {
    const inputs = (overrides: Partial<MemoryCaptureInputs> = {}): MemoryCaptureInputs => ({
      state: "running",
      architectures: ["x86_64"],
      hypervisor: "nitro",
      memoryMiB: 8192,
      kdumpReady: true,
      hibernationConfigured: false,
      rootDeviceType: "ebs",
      powerOffStops: true,
      ...overrides,
    });
    it("grace = base + per GiB of memory", () => {
      expect(memoryGraceMs(8192, GRACE)).to.equal(92_000);
      expect(memoryGraceMs(262_144, GRACE)).to.equal(1_084_000);
      expect(memoryGraceMs(undefined, GRACE)).to.equal(60_000);
    });
    const table: [string, Partial<MemoryCaptureInputs>, string, RegExp?][] = [
      ["x86_64 Nitro, kdump-ready", {}, "nmi"],
      [
        "Graviton (Nitro-based: EC2 sends it)",
        { architectures: ["arm64"], instanceType: "m7g.large" },
        "nmi",
      ],
      ["bare metal (no hypervisor value)", { hypervisor: undefined, bareMetal: true }, "nmi"],
      [
        "A1, the one Nitro family without it",
        { architectures: ["arm64"], instanceType: "a1.large" },
        "none",
        /A1/,
      ],
      ["Xen", { hypervisor: "xen" }, "none", /xen hypervisor/],
      ["unknown hypervisor, not bare metal", { hypervisor: undefined }, "none", /unknown hypervisor/],
      ["not kdump-ready", { kdumpReady: false }, "none", /not kdump-ready/],
      ["instance-store root", { rootDeviceType: "instance-store" }, "none", /instance-store/],
      ["already stopped", { state: "stopped" }, "none", /stopped/],
      ["one-time Spot (power-off would terminate)", { powerOffStops: false }, "none", /one-time Spot/],
      [
        "A1 with hibernation",
        { architectures: ["arm64"], instanceType: "a1.large", hibernationConfigured: true },
        "hibernate",
        /A1.*hibernating/,
      ],
      ["not kdump-ready with hibernation", { kdumpReady: false, hibernationConfigured: true }, "hibernate"],
      ["kdump-ready wins over hibernation", { hibernationConfigured: true }, "nmi"],
    ];
    for (const [name, overrides, method, reason] of table) {
      it(`${name}: ${method}`, () => {
        const plan = planMemoryCapture(inputs(overrides), GRACE);
        expect(plan.method).to.equal(method);
        if (reason) expect(plan.reason).to.match(reason);
      });
    }
    it("the NMI plan carries the grace for the instance's memory", () => {
      expect(planMemoryCapture(inputs({ memoryMiB: 65_536 }), GRACE)).to.deep.include({
        method: "nmi",
        graceMs: 316_000,
      });
    });
  });

  describe("stop", () => {
    const ebs = { rootDeviceType: "ebs" };
    const t0 = Date.parse("2026-11-20T08:00:00Z");
    const at = (seconds: number) => new Date(t0 + seconds * 1000).toISOString();
    it("stops a running instance", () =>
      expect(planStop(ebs, "running", {}, t0, 300_000)).to.deep.equal({ action: "stop" }));
    it("is done when stopped", () =>
      expect(planStop(ebs, "stopped", {}, t0, 300_000)).to.deep.include({
        action: "none",
        cannotStop: false,
      }));
    it("waits within the timeout", () =>
      expect(planStop(ebs, "stopping", { requestedAt: at(0) }, t0 + 100_000, 300_000)).to.deep.equal({
        action: "wait",
        deadline: t0 + 300_000,
        force: false,
      }));
    it("forces after the timeout", () =>
      expect(planStop(ebs, "stopping", { requestedAt: at(0) }, t0 + 300_000, 300_000)).to.deep.equal({
        action: "force",
      }));
    it("gives up after a forced stop that also hangs", () =>
      expect(
        planStop(ebs, "stopping", { requestedAt: at(0), forcedAt: at(300) }, t0 + 600_000, 300_000),
      ).to.deep.include({ action: "none", cannotStop: false }));
    it("cannot stop an instance-store root", () =>
      expect(planStop({ rootDeviceType: "instance-store" }, "running", {}, t0, 300_000)).to.deep.include({
        action: "none",
        cannotStop: true,
      }));
    it("stops an instance that powers itself off (kdump) without waiting for a request of its own", () =>
      expect(planStop(ebs, "stopping", {}, t0, 300_000)).to.deep.equal({ action: "stop" }));
  });

  describe("step planning", () => {
    it("memory waits for the access cuts (shutdown behaviour stop, out of the Auto Scaling group), as declared", () => {
      const dependencies = workflowDependencies();
      expect(dependencies.captureMemory).to.include("cutAccess");
      expect(dependencies.stopInstance).to.include("captureMemory");
      expect(dependencies.snapshotVolumes).to.include("stopInstance");
      expect(dependencies.attachEvidenceVolumes).to.include.members([
        "snapshotVolumes",
        "launchForensicInstance",
      ]);
      expect(dependencies.launchForensicInstance).to.deep.equal([]);
    });
    it("a step that changes a fact it does not declare is caught; its own and the shared lists are not", () => {
      const before = JSON.stringify({ instance: { state: "running" }, problems: ["a"] });
      expect(
        undeclaredWrites(before, { instance: { state: "running" } as never, problems: ["a", "b"] }, []),
      ).to.deep.equal([]);
      expect(undeclaredWrites(before, { instance: { state: "stopped" } as never }, [])).to.deep.equal([
        "instance",
      ]);
      expect(
        undeclaredWrites(before, { instance: { state: "running" } as never, stop: {} }, ["stop"]),
      ).to.deep.equal([]);
      expect(
        undeclaredWrites(before, { instance: { state: "running" } as never, stop: {} }, ["memory"]),
      ).to.deep.equal(["stop"]);
    });
    it("EC2's NotFound about the instance under response maps to InstanceGoneError; about another id it does not", () => {
      const notFound = (id: string) =>
        Object.assign(new Error(`The instance ID '${id}' does not exist`), {
          name: "InvalidInstanceID.NotFound",
          $metadata: {},
        });
      expect(instanceGoneError(notFound("i-0abc"), "i-0abc")).to.be.instanceOf(InstanceGoneError);
      const other = notFound("i-0forensic");
      expect(instanceGoneError(other, "i-0abc")).to.equal(other);
      const throttled = Object.assign(new Error("slow down"), {
        name: "RequestLimitExceeded",
        $metadata: {},
      });
      expect(instanceGoneError(throttled, "i-0abc")).to.equal(throttled);
    });
  });

  describe("network containment", () => {
    const pairs = { "vpc-1": { untrack: "sg-u", isolation: "sg-i", createdOnDemand: false } };
    it("a configured VPC has its pair; an unknown one gets none (made on demand)", () => {
      expect(
        configuredPair("vpc-1", { "vpc-1": { untrack: "sg-u", isolation: "sg-i", forensic: "sg-f" } }),
      ).to.deep.equal({ untrack: "sg-u", isolation: "sg-i", createdOnDemand: false });
      expect(configuredPair("vpc-2", { "vpc-1": { untrack: "sg-u", isolation: "sg-i" } })).to.equal(
        undefined,
      );
      expect(configuredPair("vpc-1", { "vpc-1": { untrack: "sg-u" } })).to.equal(undefined);
    });
    it("fix-up: only ENIs that are not exactly in their isolation group", () => {
      const live = [
        { networkInterfaceId: "eni-done", vpcId: "vpc-1", groupIds: ["sg-i"] },
        { networkInterfaceId: "eni-untrack", vpcId: "vpc-1", groupIds: ["sg-u"] },
        { networkInterfaceId: "eni-new", vpcId: "vpc-1", groupIds: ["sg-app"] },
        { networkInterfaceId: "eni-both", vpcId: "vpc-1", groupIds: ["sg-i", "sg-app"] },
      ];
      expect(interfacesNeedingIsolation(live, pairs)).to.deep.equal(["eni-untrack", "eni-new", "eni-both"]);
    });
    it("original groups: the live ones, unless the responder already moved the ENI (then the finding's)", () => {
      const ours = new Set(["sg-u", "sg-i"]);
      expect(originalGroupsOf(["sg-app"], ["sg-old"], ours)).to.deep.equal(["sg-app"]);
      expect(originalGroupsOf(["sg-u"], ["sg-app"], ours)).to.deep.equal(["sg-app"]);
      expect(originalGroupsOf(["sg-i"], undefined, ours)).to.deep.equal([]);
    });
    it("original groups: each once, never ours, empty only when neither the live ENI nor the finding knows", () => {
      const ours = new Set(["sg-u", "sg-i", "sg-f"]);
      expect(originalGroupsOf(["sg-app", "sg-app", "sg-db"], undefined, ours)).to.deep.equal([
        "sg-app",
        "sg-db",
      ]);
      expect(originalGroupsOf(["sg-u"], ["sg-app", "sg-app"], ours)).to.deep.equal(["sg-app"]);
      // The finding names one of ours as the ENI's group: it does not know the ENI's own groups.
      expect(originalGroupsOf(["sg-i"], ["sg-u"], ours)).to.deep.equal([]);
      expect(originalGroupsOf(["sg-i"], ["sg-app", "sg-f"], ours)).to.deep.equal([]);
      expect(originalGroupsOf(["sg-i"], [], ours)).to.deep.equal([]);
      expect(originalGroupsOf([], ["sg-app"], ours)).to.deep.equal(["sg-app"]);
      const eni = { networkInterfaceId: "eni-1", vpcId: "vpc-1", originalGroupIds: ["sg-i"] };
      expect(withOriginalGroups(eni, ["sg-u"], ours).originalGroupsUnknown).to.be.a("string");
      expect(withOriginalGroups(eni, ["sg-app"], ours)).to.deep.equal({
        ...eni,
        originalGroupIds: ["sg-app"],
      });
    });
    it("first wave: only ENIs whose own groups the finding knows move before the describe", () => {
      const finding = {
        networkInterfaces: [
          { networkInterfaceId: "eni-known", vpcId: "vpc-1", securityGroupIds: ["sg-app", "sg-app"] },
          { networkInterfaceId: "eni-none", vpcId: "vpc-1", securityGroupIds: [] },
          { networkInterfaceId: "eni-ours", vpcId: "vpc-1", securityGroupIds: ["sg-u"] },
          { networkInterfaceId: "eni-novpc", securityGroupIds: ["sg-app"] },
        ],
      } as unknown as InstanceFinding;
      expect(interfacesToIsolate(finding, [], new Set(["sg-u", "sg-i"]))).to.deep.equal([
        { networkInterfaceId: "eni-known", vpcId: "vpc-1", originalGroupIds: ["sg-app"] },
      ]);
      expect(usableFindingGroups(["sg-a", "sg-b", "sg-a"], new Set())).to.deep.equal(["sg-a", "sg-b"]);
      expect(usableFindingGroups([], new Set())).to.equal(undefined);
      expect(usableFindingGroups(undefined, new Set())).to.equal(undefined);
    });
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
    it("isolation move after the untrack hop: throttling is asked again soon, server errors a few times, the rest fails", () => {
      const awsError = (name: string, httpStatusCode?: number) =>
        Object.assign(new Error(name), {
          name,
          $metadata: httpStatusCode === undefined ? {} : { httpStatusCode },
        });
      expect(isolationAttemptVerdict(awsError("RequestLimitExceeded", 503))).to.equal("throttled");
      expect(isolationAttemptVerdict(awsError("Throttling", 400))).to.equal("throttled");
      expect(isolationAttemptVerdict(awsError("InternalError", 500))).to.equal("transient");
      expect(
        isolationAttemptVerdict(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" })),
      ).to.equal("transient");
      expect(isolationAttemptVerdict(awsError("UnauthorizedOperation", 403))).to.equal("final");
      expect(isolationAttemptVerdict(awsError("InvalidGroup.NotFound", 400))).to.equal("final");
      expect(isolationAttemptVerdict("not an error")).to.equal("final");
    });
    it("throttled isolation move: a pause of 100-300 ms, jittered", () => {
      expect(throttledIsolationPauseMs(0)).to.equal(100);
      expect(throttledIsolationPauseMs(0.5)).to.equal(200);
      expect(throttledIsolationPauseMs(0.9999)).to.be.within(298, 299);
      expect(throttledIsolationPauseMs(7)).to.be.at.most(299);
      for (let index = 0; index < 100; index += 1) expect(throttledIsolationPauseMs()).to.be.within(100, 299);
    });
    it("ModifyInstanceAttribute Groups stands in for an ENI move only on an instance described with that one ENI", () => {
      expect(isSoleInterface(["eni-1"], "eni-1")).to.equal(true);
      expect(isSoleInterface(undefined, "eni-1"), "not described yet").to.equal(false);
      expect(isSoleInterface(["eni-1", "eni-2"], "eni-1"), "several interfaces").to.equal(false);
      expect(isSoleInterface(["eni-2"], "eni-1"), "another instance's ENI").to.equal(false);
      expect(isSoleInterface([], "eni-1")).to.equal(false);
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

  describe("access cuts", () => {
    it("revokes sessions issued before the cut-off, for every action", () => {
      const policy = JSON.parse(revokeSessionsPolicy(new Date("2026-11-20T08:14:00Z"))) as {
        Statement: Record<string, unknown>[];
      };
      expect(policy.Statement).to.deep.equal([
        {
          Effect: "Deny",
          Action: "*",
          Resource: "*",
          Condition: { DateLessThan: { "aws:TokenIssueTime": "2026-11-20T08:14:00.000Z" } },
        },
      ]);
    });
    it("reads the profile name from its ARN, with or without a path", () => {
      expect(instanceProfileNameOf("arn:aws:iam::111122223333:instance-profile/web-app")).to.equal("web-app");
      expect(instanceProfileNameOf("arn:aws:iam::111122223333:instance-profile/team/a/web-app")).to.equal(
        "web-app",
      );
    });
    it("keeps every volume on termination; shutdown behaviour only where the root is EBS", () => {
      expect(attributeChanges(instanceFacts())).to.deep.equal({
        shutdownToStop: true,
        volumesToKeep: ["/dev/xvda"],
      });
      expect(
        attributeChanges(instanceFacts({ rootDeviceType: "instance-store", volumes: [] })),
      ).to.deep.equal({ shutdownToStop: false, volumesToKeep: [] });
    });
  });

  describe("snapshots, workspace and replacement", () => {
    it("locks snapshots only when configured", () => {
      expect(lockRequest("snap-1", { snapshotLock: "none", snapshotLockDays: 30 })).to.equal(undefined);
      expect(lockRequest("snap-1", { snapshotLock: "compliance", snapshotLockDays: 7 })).to.deep.equal({
        SnapshotId: "snap-1",
        LockMode: "compliance",
        LockDuration: 7,
      });
    });
    it("the workstation goes to the configured subnet of the volumes' AZ, else the instance's subnet", () => {
      expect(
        forensicSubnetFor(
          "eu-central-1b",
          { "eu-central-1a": "subnet-fa", "eu-central-1b": "subnet-fb" },
          "subnet-x",
        ),
      ).to.equal("subnet-fb");
      expect(forensicSubnetFor("eu-central-1c", { "eu-central-1a": "subnet-fa" }, "subnet-x")).to.equal(
        "subnet-x",
      );
    });
    it("originals when the instance stopped; copies when configured or when it could not be stopped", () => {
      expect(evidenceSource({ stop: { finalState: "stopped" } }, { attachSnapshotCopies: false })).to.equal(
        "original",
      );
      expect(evidenceSource({ stop: { finalState: "stopped" } }, { attachSnapshotCopies: true })).to.equal(
        "copy",
      );
      expect(
        evidenceSource(
          { stop: { finalState: "running", reason: "instance-store" } },
          { attachSnapshotCopies: false },
        ),
      ).to.equal("copy");
    });
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
    it("client tokens are deterministic per incident and purpose, and within EC2's 64 characters", () => {
      expect(clientToken("inc-1", "forensic")).to.equal(clientToken("inc-1", "forensic"));
      expect(clientToken("inc-1", "forensic")).to.not.equal(clientToken("inc-2", "forensic"));
      expect(clientToken("inc-1", "forensic").length).to.be.at.most(64);
    });
  });

  describe("incident identity and the claim", () => {
    it("the incident id carries the instance id, so the record is found from the id alone", () => {
      const id = newIncidentId("i-0123abcd4567ef890", new Date("2026-11-20T08:14:03.412Z"));
      expect(id).to.equal("inc-20261120T081403412Z-i-0123abcd4567ef890");
      expect(instanceIdOfIncident(id)).to.equal("i-0123abcd4567ef890");
      expect(incidentKey("111122223333", "eu-central-1", "i-1")).to.equal("111122223333#eu-central-1#i-1");
    });
    it("the execution's console link names the partition's console; its name is the incident id", () => {
      const arn =
        "arn:aws:states:eu-central-1:111122223333:execution:ir-response:inc-20261120T081403412Z-i-0abc";
      expect(executionConsoleUrl("eu-central-1", arn)).to.equal(
        `https://eu-central-1.console.aws.amazon.com/states/home?region=eu-central-1#/v2/executions/details/${arn}`,
      );
      const china = arn.replace("arn:aws:", "arn:aws-cn:").replace("eu-central-1", "cn-north-1");
      expect(executionConsoleUrl("cn-north-1", china)).to.match(
        /^https:\/\/cn-north-1\.console\.amazonaws\.cn\//,
      );
      const gov = arn.replace("arn:aws:", "arn:aws-us-gov:").replace("eu-central-1", "us-gov-west-1");
      expect(executionConsoleUrl("us-gov-west-1", gov)).to.match(/console\.amazonaws-us-gov\.com/);
      expect(executionName("inc-20261120T081403412Z-i-0abc")).to.equal("inc-20261120T081403412Z-i-0abc");
      expect(executionName("a b/c".repeat(30))).to.match(/^[A-Za-z0-9_-]{80}$/);
    });
    it("a claim is carried on by its own request's retry, or taken over once expired without an execution", () => {
      const record = {
        status: "responding",
        claimedBy: "req-1",
        claimExpiresAt: 1000,
      } as IncidentRecord;
      expect(carriesClaim(record, { requestId: "req-1", now: 10, expiresAt: 5000 })).to.equal(true);
      expect(carriesClaim(record, { requestId: "req-2", now: 999, expiresAt: 5000 })).to.equal(false);
      expect(carriesClaim(record, { requestId: "req-2", now: 1000, expiresAt: 5000 })).to.equal(true);
      const started = { ...record, execution: { arn: "a", name: "n", startedAt: "t", consoleUrl: "u" } };
      expect(carriesClaim(started, { requestId: "req-1", now: 5000, expiresAt: 9000 })).to.equal(false);
      expect(
        carriesClaim({ ...record, status: "completed" }, { requestId: "req-1", now: 5000, expiresAt: 9000 }),
      ).to.equal(false);
      expect(
        carriesClaim({ ...record, status: "released" }, { requestId: "req-2", now: 5000, expiresAt: 9000 }),
      ).to.equal(false);
    });
  });

  describe("report", () => {
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
        snapshots: [{ volumeId: "vol-1", snapshotId: "snap-1", locked: true }],
        memory: { method: "nmi", reason: "capture failed: boom" },
      },
    } as unknown as IncidentRecord;
    it("timeline in start order, with durations", () => {
      expect(timelineOf(record).map((entry) => [entry.step, entry.seconds])).to.deep.equal([
        ["isolateNetwork", 1.1],
        ["captureMemory", 1],
        ["snapshotVolumes", 3],
      ]);
    });
    it("milestones from the handler receiving the finding", () => {
      expect(milestones(record)).to.deep.include({ isolated: 1.2, evidenceSecured: 30 });
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
      expect(notification.message).to.include("1 snapshot(s) (locked)");
      expect(notification.message).to.include("Problems: captureMemory: memory capture failed: boom.");
      expect(notification.message).to.include(
        "s3://evidence/incidents/inc-20261120T081403Z-i-0123abcd4567ef890/report.md",
      );
    });
  });
});
