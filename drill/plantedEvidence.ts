// What the drill's intruder left on the compromised instance's disks, for the simulated triage to find: the items
// the triage VM proof plants on a real disk (forensics-ami/vm-proof), so the drill's report shows a triage summary
// of the same kind. The simulator does not read disks: these are declared, and the summary says "simulated".
import type { Simulator } from "../simulator";

const PLANTED = [
  {
    severity: "high",
    category: "persistence",
    title: "cron job fetching and running a script from the internet every 5 minutes",
    path: "/etc/cron.d/apt-refresh",
  },
  {
    severity: "high",
    category: "tampering",
    title: "/etc/ld.so.preload loads a library outside the system paths",
    path: "/etc/ld.so.preload",
  },
  {
    severity: "high",
    category: "yara",
    title: "XMRig miner (rule cryptominer_xmrig)",
    path: "/tmp/.X11-unix/.kworker",
  },
  {
    severity: "medium",
    category: "persistence",
    title: "authorized_keys gained a key in the last 72 h",
    path: "/root/.ssh/authorized_keys",
  },
  {
    severity: "low",
    category: "timeline",
    title: "shell history cleared (history -c)",
    path: "/root/.bash_history",
  },
] as const;

/** Plants the intruder's traces on every volume of the instance (the simulated triage finds them on its evidence). */
export function plantIntruderTraces(sim: Simulator, instanceId: string): void {
  for (const device of sim.state.instance(instanceId)?.blockDevices ?? []) {
    sim.ssm.plant(device.volumeId, device.deviceName === "/dev/xvda" ? PLANTED : []);
  }
}
