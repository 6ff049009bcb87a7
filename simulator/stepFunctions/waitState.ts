// A Wait state: Seconds and SecondsPath on the simulator's clock, Timestamp and TimestampPath on the wall clock.
import type { SimClock } from "../clock";
import type { Json } from "./definition";
import { runtimeFailure } from "./failures";
import { simulatedPause, wallPause, type Scope } from "./pauses";

/** RFC 3339 as Step Functions takes a Wait's timestamp: uppercase T and Z, or a numeric offset. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Seconds and SecondsPath are AWS seconds: waited on the simulator's clock (scaled; a manual clock is moved forward).
 * Timestamp and TimestampPath name an absolute time on the clock of whoever wrote it: the responder Lambda, which
 * runs on the wall clock (the simulator's durations are scaled to it). So the wait lasts until that wall-clock time,
 * and not at all when it is past. AWS truncates a timestamp to whole seconds; here time runs up to a hundred times
 * faster, a second of wall time can be minutes of simulated time, so the milliseconds are honoured. The library
 * would wait on the wall clock for Seconds too, hence the runner waits here.
 */
export async function runWait(clock: SimClock, input: Json, scope: Scope): Promise<Json> {
  const {
    input: passed = null,
    seconds,
    timestamp,
  } = (input ?? {}) as {
    input?: Json;
    seconds?: Json;
    timestamp?: Json;
  };
  if (seconds !== undefined) {
    if (typeof seconds !== "number" || !Number.isInteger(seconds) || seconds < 0) {
      throw runtimeFailure(
        `The SecondsPath parameter does not reference a valid integer value: ${JSON.stringify(seconds)}`,
      );
    }
    await simulatedPause(clock, seconds * 1000, scope.signal);
  } else {
    if (typeof timestamp !== "string" || !RFC3339.test(timestamp) || Number.isNaN(Date.parse(timestamp))) {
      throw runtimeFailure(
        `The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: ${JSON.stringify(timestamp ?? null)}`,
      );
    }
    await wallPause(Date.parse(timestamp) - Date.now(), scope.signal);
  }
  return passed;
}
