// Waiting inside an execution: on the simulator's clock or the wall clock, and given up as soon as the execution
// (or its branch) is stopped.
import type { SimClock } from "../clock";
import { Aborted } from "./failures";

/** A line of work of an execution and the signal that stops it. */
export interface Scope {
  /** The line of work in the history: the execution, a Parallel branch, a Map iteration. */
  thread: string;
  signal: AbortSignal;
}

/** Waits `simMs` of simulated time as SimClock.sleep does (a manual clock is moved forward), or until aborted. */
export function simulatedPause(clock: SimClock, simMs: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(new Aborted());
  if (clock.manual) {
    clock.advance(Math.max(0, simMs));
    return Promise.resolve();
  }
  return wallPause(clock.toWallMs(simMs), signal);
}

/** Waits `ms` of wall time, or until aborted (the timer is cleared: nothing is left behind). */
export function wallPause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new Aborted());
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Aborted());
    };
    const timer = setTimeout(
      () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      },
      // +1 ms: a timer can fire a hair before the wall-clock time it was computed from.
      Math.min(Math.max(0, ms) + 1, 2 ** 31 - 1),
    );
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Settles as `promise` does, or rejects with Aborted as soon as `signal` aborts. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new Aborted());
      return;
    }
    const onAbort = () => reject(new Aborted());
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
