// The hostile-input corpus: every *.json file in this folder is one case (see README.md here), plus the cases
// generatedCorpus.ts builds in code because JSON cannot hold them or they are too big to keep in files.
import * as fs from "fs";
import * as path from "path";

/** What a case expects: a rejection (optionally with this exact reason), no AWS change, no throw. */
export interface CaseExpectation {
  readonly reason?: string;
  /** The event holds a huge value the rejection would name: the detail must show it cut ("… (N more characters)"). */
  readonly detailCapped?: boolean;
  /**
   * Only the live instance refuses it (the event itself is acceptable): the finding's ENIs are moved at once and
   * moved back, and the incident is recorded as released. Otherwise the event alone is refused: no AWS change.
   */
  readonly onLiveInstance?: boolean;
}

/** A defect the case demonstrates: the test pins the current outcome and says so in its title. */
export interface KnownDefect {
  readonly defect: string;
  /** Today's outcome ("threw" for a throw). */
  readonly currently: { readonly outcome: string };
}

/** Where the event comes from: a real finding about a live simulated instance, patched; or a literal value. */
type CaseBase = "live-finding" | "none";

export interface CorpusCase {
  readonly file: string;
  readonly name: string;
  readonly why?: string;
  readonly base: CaseBase;
  /** Tags on the live instance (the live re-check reads these). */
  readonly instanceTags?: Readonly<Record<string, string>>;
  /** JSON Pointer (RFC 6901) -> value, applied to the live finding in order. */
  readonly set?: Readonly<Record<string, unknown>>;
  /** JSON Pointers removed from the live finding. */
  readonly remove?: readonly string[];
  /** The event itself when `base` is "none". */
  readonly event?: unknown;
  readonly expect: CaseExpectation;
  readonly knownDefect?: KnownDefect;
}

/** Values the files name as {{placeholder}}: the live instance and the stack's account and region. */
export interface Placeholders {
  readonly instanceId: string;
  readonly eniId: string;
  readonly accountId: string;
  readonly region: string;
}

const CORPUS_DIR = __dirname;

export function corpusFiles(): string[] {
  return fs
    .readdirSync(CORPUS_DIR)
    .filter((name) => name.endsWith(".json"))
    .sort();
}

/**
 * Reads a case, substituting placeholders in the file's text (before parsing, so keys such as "__proto__" stay
 * own keys exactly as JSON.parse makes them, as in Lambda).
 */
export function readCase(file: string, values: Placeholders): CorpusCase {
  const text = fs
    .readFileSync(path.join(CORPUS_DIR, file), "utf8")
    .replace(/\{\{(instanceId|eniId|accountId|region)\}\}/g, (_, name: keyof Placeholders) => values[name]);
  const parsed = JSON.parse(text) as Omit<CorpusCase, "file">;
  if (typeof parsed.name !== "string" || (parsed.base !== "live-finding" && parsed.base !== "none"))
    throw new Error(`${file}: a case needs "name" and "base" ("live-finding" or "none")`);
  return { ...parsed, file };
}

function unescapePointer(token: string): string {
  return token.replace(/~1/g, "/").replace(/~0/g, "~");
}

/** Sets (or with `value` undefined and `remove`, deletes) the location a JSON Pointer names. */
function applyPointer(
  document: unknown,
  pointer: string,
  change: { value?: unknown; remove?: boolean },
): void {
  const tokens = pointer.split("/").slice(1).map(unescapePointer);
  const last = tokens.pop();
  if (last === undefined) throw new Error(`pointer ${pointer} names the whole document`);
  let node = document as Record<string, unknown>;
  for (const token of tokens) {
    const next = node[token];
    if (typeof next !== "object" || next === null)
      throw new Error(`pointer ${pointer}: no object at ${token}`);
    node = next as Record<string, unknown>;
  }
  if (change.remove === true) {
    delete node[last];
    return;
  }
  // defineProperty, not assignment: a key such as "__proto__" must become an own key, never the prototype.
  Object.defineProperty(node, last, {
    value: change.value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/** The event a case describes, built on a JSON copy of the live finding (Lambda hands the handler parsed JSON). */
export function eventOf(corpusCase: CorpusCase, liveFinding: () => unknown): unknown {
  if (corpusCase.base === "none") return corpusCase.event;
  const event = JSON.parse(JSON.stringify(liveFinding())) as unknown;
  for (const [pointer, value] of Object.entries(corpusCase.set ?? {}))
    applyPointer(event, pointer, { value });
  for (const pointer of corpusCase.remove ?? []) applyPointer(event, pointer, { remove: true });
  return event;
}
