// The instance's own volumes back on it, each on its original device: detached from the forensic workstation
// (always naming the workstation, so a volume that moved is never pulled from elsewhere), then attached. Copies
// made from the snapshots are evidence of the response's own making: they stay with the workstation until
// `ir close`, so an investigation under way keeps what it is reading.
import { waitUntilVolumeAvailable, waitUntilVolumeInUse } from "@aws-sdk/client-ec2";

import { describeOwnVolumes } from "./incident";
import { change, waitFor, type ReleaseRun } from "./run";

export async function restoreVolumes(run: ReleaseRun): Promise<void> {
  const { ec2 } = run.context.clients;
  const instanceId = run.record.instanceId;
  const workstation = run.record.facts.forensic?.instanceId;
  const volumes = await describeOwnVolumes(run.context, run.record);
  const placeOf = (volumeId: string) =>
    volumes
      .find((volume) => volume.VolumeId === volumeId)
      ?.Attachments?.find((attachment) => attachment.State !== "detached");

  // One already detaching (an interrupted release) needs no second call, only the wait below.
  const onWorkstation = run.instance.volumes.filter((volume) => {
    const place = placeOf(volume.volumeId);
    return workstation !== undefined && place?.InstanceId === workstation && place.State !== "detaching";
  });
  for (const volume of onWorkstation) {
    const detail = { VolumeId: volume.volumeId, InstanceId: workstation };
    await change(run, "ec2:DetachVolume", detail, () => ec2.detachVolume(detail));
  }
  const toAttach = run.instance.volumes.filter(
    (volume) => placeOf(volume.volumeId)?.InstanceId !== instanceId,
  );
  if (toAttach.length === 0) {
    for (const volume of run.instance.volumes) run.undone.push(`${volume.volumeId}: on ${volume.deviceName}`);
    return;
  }
  const VolumeIds = toAttach.map((volume) => volume.volumeId);
  await waitFor(run, `${VolumeIds.join(", ")} to be detached`, waitUntilVolumeAvailable, { VolumeIds });
  for (const volume of toAttach) {
    const detail = { VolumeId: volume.volumeId, InstanceId: instanceId, Device: volume.deviceName };
    await change(run, "ec2:AttachVolume", detail, () => ec2.attachVolume(detail));
  }
  await waitFor(run, `${VolumeIds.join(", ")} to be attached`, waitUntilVolumeInUse, { VolumeIds });
  for (const volume of run.instance.volumes) run.undone.push(`${volume.volumeId}: on ${volume.deviceName}`);
}
