import * as fs from "fs";
import * as path from "path";

const EVENTS = path.join(__dirname, "..", "fixtures", "events");

/** A fresh copy of a fixture event, so a test may mutate it. */
export function loadEvent(name: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(EVENTS, `${name}.json`), "utf8")) as Record<string, unknown>;
}
