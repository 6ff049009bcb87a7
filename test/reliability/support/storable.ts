// What DynamoDB can store: strings are UTF-8, so a lone surrogate (half a UTF-16 pair) anywhere in an item, key
// or value, makes the whole write fail. These helpers find such strings in a record.

/** Whether `text` holds no lone surrogate (String.prototype.isWellFormed, which Node 20's types lack). */
export function isWellFormed(text: string): boolean {
  for (let index = 0; index < text.length; index += 1) {
    const unit = text.charCodeAt(index);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(index + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      index += 1;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) {
      return false;
    }
  }
  return true;
}

/** Where a JSON-like value holds a string (or a key) DynamoDB would refuse: paths such as `finding.title`. */
export function illFormedPaths(value: unknown, path = ""): string[] {
  if (typeof value === "string") return isWellFormed(value) ? [] : [path || "(root)"];
  if (Array.isArray(value))
    return value.flatMap((item: unknown, index) => illFormedPaths(item, `${path}[${index}]`));
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([key, item]) => [
      ...(isWellFormed(key) ? [] : [`${path}.${JSON.stringify(key)} (key)`]),
      ...illFormedPaths(item as unknown, path === "" ? key : `${path}.${key}`),
    ]);
  }
  return [];
}
