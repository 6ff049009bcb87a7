// Each network interface back in the groups it had before the responder moved it.
import { change, type ReleaseRun } from "./run";

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((item) => b.includes(item));

export async function restoreInterfaceGroups(run: ReleaseRun): Promise<void> {
  const interfaces = run.instance.networkInterfaces;
  if (interfaces.length === 0) return;
  const answer = await run.context.clients.ec2.describeNetworkInterfaces({
    Filters: [{ Name: "network-interface-id", Values: interfaces.map((eni) => eni.networkInterfaceId) }],
  });
  for (const eni of interfaces) {
    const NetworkInterfaceId = eni.networkInterfaceId;
    if (eni.originalGroupsUnknown !== undefined) {
      run.kept.push(`${NetworkInterfaceId}: groups left as they are: ${eni.originalGroupsUnknown}`);
      continue;
    }
    const live = answer.NetworkInterfaces?.find(
      (candidate) => candidate.NetworkInterfaceId === NetworkInterfaceId,
    );
    if (live === undefined) {
      run.kept.push(`${NetworkInterfaceId}: gone; nothing to restore`);
      continue;
    }
    const Groups = [...eni.originalGroupIds];
    const current = (live.Groups ?? []).flatMap((group) => (group.GroupId ? [group.GroupId] : []));
    if (!sameSet(current, Groups))
      await change(run, "ec2:ModifyNetworkInterfaceAttribute", { NetworkInterfaceId, Groups }, () =>
        run.context.clients.ec2.modifyNetworkInterfaceAttribute({ NetworkInterfaceId, Groups }),
      );
    run.undone.push(`${NetworkInterfaceId}: groups ${Groups.join(", ")}`);
  }
}
