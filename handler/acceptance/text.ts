// Input text as acceptance repeats it in a rejection (capped) and as the record stores it (well-formed).

/** The longest piece of input a rejection detail (and so a log line) repeats: hostile input is never echoed whole. */
export const ECHO_LIMIT = 120;

/** The text with every lone surrogate (half a UTF-16 pair) replaced by U+FFFD: what UTF-8 (DynamoDB) can hold. */
export function wellFormed(text: string): string {
  return text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd");
}

/** Where the first `max` code points of `text` end (a UTF-16 index that never splits a surrogate pair). */
function codePointCut(text: string, max: number): number {
  let index = 0;
  for (let count = 0; count < max && index < text.length; count += 1) {
    const unit = text.charCodeAt(index);
    const next = text.charCodeAt(index + 1);
    index += unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff ? 2 : 1;
  }
  return index;
}

/** How many code points `text` holds from `start` (a surrogate pair counts once, a lone half once). */
function codePointsFrom(text: string, start: number): number {
  let count = 0;
  for (let index = start; index < text.length; count += 1) {
    const unit = text.charCodeAt(index);
    const next = text.charCodeAt(index + 1);
    index += unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff ? 2 : 1;
  }
  return count;
}

/**
 * `text`, or its first `max` characters (code points: a surrogate pair is never cut in half) and how many more
 * there were; lone surrogates become U+FFFD. The result is always well-formed, so DynamoDB can store it.
 */
export function capText(text: string, max: number = ECHO_LIMIT): string {
  const cut = codePointCut(text, max);
  if (cut >= text.length) return wellFormed(text);
  return `${wellFormed(text.slice(0, cut))}… (${codePointsFrom(text, cut)} more characters)`;
}

/**
 * A piece of input as a rejection detail may repeat it: capped, and never converted through the input's own
 * toString (a parsed {"toString": "x"} makes String() throw).
 */
export function echo(value: unknown): string {
  if (typeof value === "string") return capText(value);
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object" && value !== null) return "an object";
  if (typeof value === "symbol") return "a symbol";
  return capText(String(value));
}

export function pathText(path: readonly (string | number)[]): string {
  return path.length > 0 ? echo(path.join(".")) : "event";
}
