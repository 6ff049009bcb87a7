// How hard this machine worked during a measurement: the simulator, dynalite and every responder share one Node
// process (one JavaScript thread), so a busy event loop delays AWS calls as AWS never would. Reported beside the
// figures it may inflate.
import { monitorEventLoopDelay } from "perf_hooks";

export interface LoadObservation {
  /** CPU of this process (user + system), ms. */
  readonly cpuMs: number;
  readonly wallMs: number;
  /** CPU ms per wall ms: 1.0 means the JavaScript thread never rested. */
  readonly cpuPerWall: number;
  readonly eventLoopDelayP99Ms: number;
  readonly eventLoopDelayMaxMs: number;
  /** The SDK's warnings that a request took longer than its 15 s timeout (wall): the loop was starved. */
  readonly requestsOver15s: number;
}

const SLOW_REQUEST_WARNING = "exceeded the configured";

export async function observingLoad<T>(work: () => Promise<T>): Promise<{ value: T; load: LoadObservation }> {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  const warn = console.warn;
  let requestsOver15s = 0;
  // The SDK warns once per slow request; count them instead of printing hundreds of lines.
  console.warn = (...args: unknown[]) => {
    if (args.some((arg) => String(arg).includes(SLOW_REQUEST_WARNING))) requestsOver15s += 1;
    else warn(...args);
  };
  const cpu = process.cpuUsage();
  const started = performance.now();
  delay.enable();
  try {
    const value = await work();
    const used = process.cpuUsage(cpu);
    const wallMs = performance.now() - started;
    const cpuMs = (used.user + used.system) / 1000;
    return {
      value,
      load: {
        cpuMs,
        wallMs,
        cpuPerWall: cpuMs / wallMs,
        eventLoopDelayP99Ms: delay.percentile(99) / 1e6,
        eventLoopDelayMaxMs: delay.max / 1e6,
        requestsOver15s,
      },
    };
  } finally {
    delay.disable();
    console.warn = warn;
  }
}
