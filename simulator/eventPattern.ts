// EventBridge's content filtering, evaluated locally: the drill delivers an event to the responder only when the
// stack's rule would, and the tests check the rule by evaluating it rather than comparing strings.
// Semantics follow the EventBridge user guide, "Event patterns" and "Content filtering": every field named in the
// pattern must match; a pattern field lists alternatives; an array in the event matches if any element does.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Matcher = Json;

export function matchesEventPattern(pattern: Record<string, unknown>, event: unknown): boolean {
  return matchObject(pattern, event);
}

function matchObject(pattern: Record<string, unknown>, value: unknown): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const fields = value as Record<string, unknown>;
  return Object.entries(pattern).every(([key, sub]) => {
    if (Array.isArray(sub)) return matchField(sub as Matcher[], fields[key], key in fields);
    if (typeof sub === "object" && sub !== null)
      return matchObject(sub as Record<string, unknown>, fields[key]);
    throw new Error(`event pattern field ${key} must be an array of matchers or an object`);
  });
}

function matchField(alternatives: Matcher[], value: unknown, present: boolean): boolean {
  const candidates = Array.isArray(value) ? value : [value];
  return alternatives.some((matcher) => {
    if (isExists(matcher)) return matcher.exists === (present && value !== undefined);
    if (!present) return false;
    return candidates.some((candidate) => matchValue(matcher, candidate));
  });
}

function isExists(matcher: Matcher): matcher is { exists: boolean } {
  return typeof matcher === "object" && matcher !== null && !Array.isArray(matcher) && "exists" in matcher;
}

function matchValue(matcher: Matcher, value: unknown): boolean {
  if (matcher === null || typeof matcher !== "object") return matcher === value;
  if (Array.isArray(matcher)) throw new Error("nested arrays are not valid in an event pattern");
  const [operator, operand] = Object.entries(matcher)[0] ?? [];
  switch (operator) {
    case "prefix":
      return typeof value === "string" && typeof operand === "string" && value.startsWith(operand);
    case "suffix":
      return typeof value === "string" && typeof operand === "string" && value.endsWith(operand);
    case "equals-ignore-case":
      return (
        typeof value === "string" &&
        typeof operand === "string" &&
        value.toLowerCase() === operand.toLowerCase()
      );
    case "wildcard":
      return typeof value === "string" && typeof operand === "string" && wildcard(operand).test(value);
    case "numeric":
      // Numeric matching applies to JSON numbers only: "8.9" as a string never matches.
      return typeof value === "number" && Array.isArray(operand) && numeric(operand, value);
    case "anything-but":
      return anythingBut(operand ?? null, value);
    default:
      throw new Error(`unsupported event pattern operator ${String(operator)}`);
  }
}

function numeric(conditions: Json[], value: number): boolean {
  for (let i = 0; i < conditions.length; i += 2) {
    const op = conditions[i];
    const bound = conditions[i + 1];
    if (typeof bound !== "number") throw new Error("numeric matching needs a number after each operator");
    const holds =
      op === "="
        ? value === bound
        : op === ">"
          ? value > bound
          : op === ">="
            ? value >= bound
            : op === "<"
              ? value < bound
              : op === "<="
                ? value <= bound
                : null;
    if (holds === null) throw new Error(`unknown numeric operator ${JSON.stringify(op)}`);
    if (!holds) return false;
  }
  return true;
}

function anythingBut(operand: Json, value: unknown): boolean {
  if (Array.isArray(operand)) return !operand.includes(value as Json);
  if (operand !== null && typeof operand === "object") return !matchValue(operand, value);
  return operand !== value;
}

function wildcard(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${escaped}$`);
}
