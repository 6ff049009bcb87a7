// EBS snapshots: multi-volume create (tags given or copied from the volumes), lock, describe.
import {
  CreateSnapshots$,
  DescribeLockedSnapshots$,
  DescribeSnapshots$,
  LockSnapshot$,
  type CreateSnapshotsRequest,
  type CreateSnapshotsResult,
  type DescribeLockedSnapshotsRequest,
  type DescribeLockedSnapshotsResult,
  type DescribeSnapshotsRequest,
  type DescribeSnapshotsResult,
  type LockSnapshotRequest,
  type LockSnapshotResult,
} from "@aws-sdk/client-ec2";
import { AwsError } from "../../errors";
import type { Snapshot, Volume } from "../../state/model";
import { tagList, type World } from "../../state/world";
import { defineOperation, type QueryOperation } from "../../wire/queryProtocol";
import { checkTagSpecifications, describePage, find, tagsFor, toDate, type FilterTable } from "./common";
import { renderSnapshot, snapshotProgress } from "./render";

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

function lockState(world: World, snapshot: Snapshot): LockSnapshotResult["LockState"] | undefined {
  const lock = snapshot.lock;
  if (!lock) return undefined;
  const now = world.now();
  if (now >= lock.expiresOn) return "expired";
  if (lock.mode === "governance") return "governance";
  return lock.coolOffEndsOn !== undefined && now < lock.coolOffEndsOn ? "compliance-cooloff" : "compliance";
}

export function snapshotOperations(world: World): Record<string, QueryOperation> {
  const snapshotFilters: FilterTable<Snapshot> = {
    "snapshot-id": (snapshot) => [snapshot.snapshotId],
    "volume-id": (snapshot) => [snapshot.volumeId],
    status: (snapshot) => [snapshot.state],
    "owner-id": () => [world.accountId],
    description: (snapshot) => [snapshot.description],
  };

  return {
    DescribeSnapshots: defineOperation<DescribeSnapshotsRequest, DescribeSnapshotsResult>(
      DescribeSnapshots$,
      { mutating: false },
      (input) => {
        // Every simulated snapshot belongs to this account.
        const owners = input.OwnerIds ?? [];
        const ownedHere = owners.length === 0 || owners.includes("self") || owners.includes(world.accountId);
        const { page, nextToken } = describePage(
          world,
          world.snapshots,
          input.SnapshotIds,
          input,
          snapshotFilters,
          () => ownedHere,
        );
        return { Snapshots: page.map((snapshot) => renderSnapshot(world, snapshot)), NextToken: nextToken };
      },
    ),

    CreateSnapshots: defineOperation<CreateSnapshotsRequest, CreateSnapshotsResult>(
      CreateSnapshots$,
      { mutating: true },
      (input, ctx) => {
        const spec = input.InstanceSpecification;
        if (!spec?.InstanceId)
          throw new AwsError(
            "MissingParameter",
            "The request must contain the parameter InstanceSpecification.InstanceId",
          );
        const instance = find(world, world.instances, spec.InstanceId);
        if (instance.state === "terminated" || instance.state === "shutting-down") {
          throw new AwsError(
            "IncorrectState",
            `The instance '${instance.instanceId}' is not in a valid state for this operation.`,
          );
        }
        checkTagSpecifications(input.TagSpecifications, ["snapshot"]);
        if (input.CopyTagsFromSource !== undefined && input.CopyTagsFromSource !== "volume") {
          throw new AwsError(
            "InvalidParameterValue",
            `Value (${String(input.CopyTagsFromSource)}) for parameter CopyTagsFromSource is invalid.`,
          );
        }
        const requestedKeys = (input.TagSpecifications ?? []).flatMap((spec) =>
          (spec.Tags ?? []).flatMap((tag) => (tag.Key === undefined ? [] : [tag.Key])),
        );
        const excluded = new Set(spec.ExcludeDataVolumeIds ?? []);
        const volumes = instance.blockDevices
          .filter((link) => !(spec.ExcludeBootVolume && link.deviceName === instance.rootDeviceName))
          .filter((link) => !excluded.has(link.volumeId))
          .map((link) => world.volumes.get(link.volumeId))
          .filter((v): v is Volume => v !== undefined);
        if (volumes.length === 0) {
          throw new AwsError(
            "InvalidParameterValue",
            `The instance '${instance.instanceId}' has no volumes to snapshot.`,
          );
        }
        // A tag key given twice is refused ("Duplicate tag key 'Name' specified.", EC2's answer to a request
        // naming a key twice); a key that CopyTagsFromSource also brings from a volume counts as given twice
        // (inferred: the API reference does not say which value would win, and EC2 does not pick one).
        const copied =
          input.CopyTagsFromSource === "volume" ? volumes.flatMap((volume) => [...volume.tags.keys()]) : [];
        const seen = new Set<string>();
        for (const key of requestedKeys) {
          if (seen.has(key))
            throw new AwsError("InvalidParameterValue", `Duplicate tag key '${key}' specified.`);
          seen.add(key);
        }
        const clash = copied.find((key) => seen.has(key));
        if (clash !== undefined)
          throw new AwsError("InvalidParameterValue", `Duplicate tag key '${clash}' specified.`);
        ctx.dryRunGate();
        const now = world.now();
        const snapshots = volumes.map((volume) => {
          const tags =
            input.CopyTagsFromSource === "volume" ? new Map(volume.tags) : new Map<string, string>();
          for (const [k, v] of tagsFor(input.TagSpecifications, "snapshot")) tags.set(k, v);
          const snapshot: Snapshot = {
            snapshotId: world.newId("snap"),
            volumeId: volume.volumeId,
            volumeSizeGiB: volume.sizeGiB,
            state: "pending",
            startTime: now,
            completesAt:
              now + world.durations.snapshotBaseMs + volume.sizeGiB * world.durations.snapshotPerGiBMs,
            description: input.Description ?? "",
            encrypted: volume.encrypted,
            kmsKeyId: volume.kmsKeyId,
            productCodes: [...volume.productCodes],
            tags,
            sourceInstanceId: instance.instanceId,
            visibleAt: world.visibleFrom(),
          };
          world.snapshots.set(snapshot.snapshotId, snapshot);
          world.clock.schedule(snapshot.completesAt - now, () => {
            snapshot.state = "completed";
          });
          return snapshot;
        });
        return {
          Snapshots: snapshots.map((snapshot) => ({
            SnapshotId: snapshot.snapshotId,
            VolumeId: snapshot.volumeId,
            VolumeSize: snapshot.volumeSizeGiB,
            State: snapshot.state,
            StartTime: toDate(snapshot.startTime),
            Progress: snapshotProgress(world, snapshot),
            OwnerId: world.accountId,
            Description: snapshot.description,
            Encrypted: snapshot.encrypted,
            Tags: tagList(snapshot.tags),
          })),
        };
      },
    ),

    LockSnapshot: defineOperation<LockSnapshotRequest, LockSnapshotResult>(
      LockSnapshot$,
      { mutating: true },
      (input, ctx) => {
        const snapshot = find(world, world.snapshots, input.SnapshotId ?? "");
        const mode = input.LockMode;
        if (mode !== "governance" && mode !== "compliance") {
          throw new AwsError(
            "InvalidParameterValue",
            `Value (${String(mode)}) for parameter LockMode is invalid.`,
          );
        }
        if ((input.LockDuration === undefined) === (input.ExpirationDate === undefined)) {
          throw new AwsError(
            "InvalidParameterCombination",
            "Specify either LockDuration or ExpirationDate, but not both.",
          );
        }
        if (input.LockDuration !== undefined && (input.LockDuration < 1 || input.LockDuration > 36500)) {
          throw new AwsError("InvalidParameterValue", "LockDuration must be between 1 and 36500 days.");
        }
        if (input.CoolOffPeriod !== undefined) {
          if (mode !== "compliance") {
            throw new AwsError(
              "InvalidParameterCombination",
              "CoolOffPeriod can be specified only with compliance mode.",
            );
          }
          if (input.CoolOffPeriod < 1 || input.CoolOffPeriod > 72) {
            throw new AwsError("InvalidParameterValue", "CoolOffPeriod must be between 1 and 72 hours.");
          }
        }
        const now = world.now();
        const expiresOn = input.ExpirationDate
          ? input.ExpirationDate.getTime()
          : now + (input.LockDuration ?? 0) * DAY_MS;
        if (expiresOn <= now)
          throw new AwsError("InvalidParameterValue", "ExpirationDate must be in the future.");
        const current = lockState(world, snapshot);
        if (current === "compliance" && snapshot.lock && expiresOn < snapshot.lock.expiresOn) {
          throw new AwsError(
            "SnapshotLocked",
            `Snapshot ${snapshot.snapshotId} is locked in compliance mode; its lock duration can only be extended.`,
          );
        }
        if (current === "compliance" && mode === "governance") {
          throw new AwsError(
            "SnapshotLocked",
            `Snapshot ${snapshot.snapshotId} is locked in compliance mode.`,
          );
        }
        ctx.dryRunGate();
        snapshot.lock = {
          mode,
          createdOn: now,
          durationDays: input.LockDuration,
          expiresOn,
          coolOffHours: input.CoolOffPeriod,
          coolOffEndsOn: input.CoolOffPeriod !== undefined ? now + input.CoolOffPeriod * HOUR_MS : undefined,
        };
        return {
          SnapshotId: snapshot.snapshotId,
          LockState: lockState(world, snapshot),
          LockDuration: input.LockDuration,
          CoolOffPeriod: input.CoolOffPeriod,
          CoolOffPeriodExpiresOn:
            snapshot.lock.coolOffEndsOn !== undefined ? toDate(snapshot.lock.coolOffEndsOn) : undefined,
          LockCreatedOn: toDate(now),
          LockExpiresOn: toDate(expiresOn),
          LockDurationStartTime: toDate(now),
        };
      },
    ),

    // The named snapshots' locks (ir close reports until when evidence stays); unlocked ones are not listed.
    DescribeLockedSnapshots: defineOperation<DescribeLockedSnapshotsRequest, DescribeLockedSnapshotsResult>(
      DescribeLockedSnapshots$,
      { mutating: false },
      (input) => ({
        Snapshots: (input.SnapshotIds ?? []).flatMap((id) => {
          const snapshot = find(world, world.snapshots, id);
          const lock = snapshot.lock;
          if (!lock) return [];
          return [
            {
              OwnerId: world.accountId,
              SnapshotId: id,
              LockState: lockState(world, snapshot),
              LockDuration: lock.durationDays,
              LockCreatedOn: toDate(lock.createdOn),
              LockExpiresOn: toDate(lock.expiresOn),
            },
          ];
        }),
      }),
    ),
  };
}
