import { isIPv4, isIPv6 } from "net";

export interface Cidr {
  readonly address: string;
  readonly prefix: number;
  readonly family: 4 | 6;
}

/**
 * Parses an IPv4 or IPv6 CIDR block (address validity from Node's own parser). One rule for the stack's config and
 * the handler's settings, so a value the stack accepts is never one the Lambda refuses at cold start.
 */
export function parseCidr(text: string): Cidr | undefined {
  const match = /^([^/\s]+)\/(\d{1,3})$/.exec(text);
  if (!match) return undefined;
  const [, address = "", prefixText = ""] = match;
  const family = isIPv4(address) ? 4 : isIPv6(address) ? 6 : undefined;
  const prefix = Number(prefixText);
  if (family === undefined || prefix > (family === 4 ? 32 : 128)) return undefined;
  return { address, prefix, family };
}

/** A block that matches every address (0.0.0.0/0, ::/0, or any /0): never a forensic source. */
export function isWholeInternet(cidr: Cidr): boolean {
  return cidr.prefix === 0;
}
