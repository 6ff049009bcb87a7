// The NMI that SendDiagnosticInterrupt delivers: a kdump-ready kernel dumps memory and powers off, another logs it.
import type { Instance } from "../state/model";
import type { World } from "../state/world";
import { typeInfoOf } from "../state/instanceTypes";
import { KDUMP_MODEL } from "../options";
import { guestPowerOff, KDUMP_READY_TAG } from "./instances";

export function isKdumpReady(world: World, instance: Instance): boolean {
  const image = world.images.get(instance.imageId);
  return instance.tags.get(KDUMP_READY_TAG) === "true" || image?.tags.get(KDUMP_READY_TAG) === "true";
}

/**
 * The NMI reached a kdump-ready kernel: the capture kernel boots (kdumpBaseMs), makedumpfile scans all memory and
 * writes what it keeps (kdumpPerGiBMs per GiB; the model and its sources are KDUMP_MODEL's), then the OS powers off.
 */
export function startKdump(world: World, instance: Instance): void {
  const memoryMiB = typeInfoOf(instance).memoryMiB;
  const duration = world.durations.kdumpBaseMs + (memoryMiB / 1024) * world.durations.kdumpPerGiBMs;
  const startedAt = world.now();
  instance.dumpInProgressUntil = startedAt + duration;
  instance.consoleOutput +=
    `[ 8123.000001] Kernel panic - not syncing: NMI: Not continuing\n` +
    `[ 8123.000050] Starting crashdump kernel...\n[    0.000000] Linux version 6.1.0-ir (kdump)\n` +
    `kdump-tools[412]: Starting kdump-tools: saving vmcore to /var/crash/\n`;
  world.scheduleForInstance(instance, duration, () => {
    instance.dumpInProgressUntil = undefined;
    instance.memoryDumps.push({
      completedAt: world.now(),
      sizeMiB: Math.round(memoryMiB * KDUMP_MODEL.writtenFraction),
    });
    instance.consoleOutput += `kdump-tools[412]: saved vmcore in /var/crash/ - powering off\n[ reboot: Power down\n`;
    world.clock.schedule(world.durations.guestPowerOffMs, () => guestPowerOff(world, instance));
  });
}

/** An NMI without kdump: the kernel logs it and carries on (no panic unless unknown_nmi_panic is set). */
export function ignoreNmi(instance: Instance): void {
  instance.consoleOutput += `[ 8123.000001] Uhhuh. NMI received for unknown reason 3d on CPU 0.\n[ 8123.000002] Do you have a strange power saving mode enabled?\n[ 8123.000003] Dazed and confused, but trying to continue\n`;
}
