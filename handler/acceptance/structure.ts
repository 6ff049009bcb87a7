// Checks that run before any schema looks at an event: its structure, and what it says it is.
import { is, literal, string, type as shape } from "superstruct";

import { FINDING_DETAIL_TYPE } from "./finding";
import { pathText } from "./text";

/**
 * How deep an event may nest. A GuardDuty finding nests about 8 levels; superstruct recurses once per level, so
 * an event nested deeper is refused before validation, by an iterative walk.
 */
export const MAX_EVENT_DEPTH = 64;

/**
 * Why the event is not a plain JSON tree of sane depth, or undefined. Iterative, so no event can overflow the
 * stack here. It runs before anything else looks at an event (handleEvent, acceptFindingEvent): superstruct
 * recurses once per level, and even its failure message prints the value it refused (`${value}`, which joins a
 * nested array recursively), so a 100 000-deep value anywhere it looks overflows the stack. It refuses what
 * JSON cannot carry and what makes JSON.stringify throw (BigInt, a circular reference) or blow up (an object met
 * twice): Lambda only ever hands the handler parsed JSON, and the claim stores the event serialized.
 */
export function structuralProblem(event: unknown): string | undefined {
  interface Node {
    readonly value: unknown;
    readonly key: string | number | undefined;
    readonly parent: Node | undefined;
    readonly depth: number;
  }
  const where = (node: Node): string => {
    const keys: (string | number)[] = [];
    for (let at: Node | undefined = node; at?.key !== undefined; at = at.parent) keys.unshift(at.key);
    return pathText(keys);
  };
  const seen = new Set<object>();
  const pending: Node[] = [{ value: event, key: undefined, parent: undefined, depth: 0 }];
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    const { value } = node;
    if (typeof value === "bigint" || typeof value === "function" || typeof value === "symbol")
      return `${where(node)}: a ${typeof value} is not JSON`;
    if (typeof value !== "object" || value === null) continue;
    if (node.depth >= MAX_EVENT_DEPTH) return `${where(node)}: nested deeper than ${MAX_EVENT_DEPTH} levels`;
    if (seen.has(value)) return `${where(node)}: a circular or repeated reference is not JSON`;
    seen.add(value);
    const depth = node.depth + 1;
    if (Array.isArray(value)) {
      for (let index = 0; index < value.length; index += 1)
        pending.push({ value: value[index] as unknown, key: index, parent: node, depth });
    } else {
      for (const [key, child] of Object.entries(value))
        pending.push({ value: child as unknown, key, parent: node, depth });
    }
  }
  return undefined;
}

/** True for anything shaped like an EventBridge GuardDuty finding event (before the detail is validated). */
export function looksLikeFindingEvent(event: unknown): boolean {
  return is(event, shape({ "detail-type": literal(FINDING_DETAIL_TYPE), source: string() }));
}

/** Whether the event names itself a GuardDuty finding, read without any schema (safe on any structure). */
export function claimsToBeAFinding(event: unknown): boolean {
  if (typeof event !== "object" || event === null || Array.isArray(event)) return false;
  return Object.getOwnPropertyDescriptor(event, "detail-type")?.value === FINDING_DETAIL_TYPE;
}
