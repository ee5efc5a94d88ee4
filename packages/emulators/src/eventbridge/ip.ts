/**
 * IP literal and CIDR parsing for the event-pattern `cidr` operator.
 *
 * Addresses become (family, bigint) pairs so IPv4 and IPv6 share one range
 * check. Kept separate from pattern.ts because it is pure bit twiddling.
 *
 * AWS doc rule ("IP address matching", Content filtering in Amazon
 * EventBridge event patterns): "You can use IP address matching for IPv4 and
 * IPv6 addresses". An IPv4 block never contains an IPv6 address and vice
 * versa (the families are compared first).
 */
import { isIPv6 } from "node:net";

export interface IpAddress {
  family: 4 | 6;
  value: bigint;
}

export interface CidrRange {
  family: 4 | 6;
  low: bigint;
  high: bigint;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function parseIPv4(text: string): bigint | undefined {
  const m = IPV4.exec(text);
  if (!m) return undefined;
  let value = 0n;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) return undefined;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

function parseIPv6(text: string): bigint | undefined {
  // node:net does the grammar check; zone ids (fe80::1%eth0) are not
  // addresses a pattern could meaningfully match, so they are refused.
  if (!isIPv6(text) || text.includes("%")) return undefined;
  let s = text;
  // Rewrite an embedded dotted IPv4 tail (::ffff:10.0.0.1) as two hex groups.
  const lastColon = s.lastIndexOf(":");
  const tail = s.slice(lastColon + 1);
  if (tail.includes(".")) {
    const v4 = parseIPv4(tail);
    if (v4 === undefined) return undefined;
    s = `${s.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = s.split("::");
  const left = halves[0] ? halves[0].split(":") : [];
  const right = halves.length > 1 && halves[1] ? halves[1].split(":") : [];
  const missing = 8 - left.length - right.length;
  const groups = halves.length > 1 ? [...left, ...Array<string>(missing).fill("0"), ...right] : left;
  if (groups.length !== 8) return undefined;
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** Parse an IPv4 or IPv6 literal; undefined when the text is not one. */
export function parseIp(text: string): IpAddress | undefined {
  const v4 = parseIPv4(text);
  if (v4 !== undefined) return { family: 4, value: v4 };
  const v6 = parseIPv6(text);
  if (v6 !== undefined) return { family: 6, value: v6 };
  return undefined;
}

/**
 * Parse "addr/bits". Throws a plain Error with the reason; pattern.ts wraps
 * it with the pattern path.
 *
 * Judgement call: the range is the whole block (host bits of `addr` are
 * masked off), i.e. standard CIDR semantics, and /32 and /128 (one host) are
 * accepted. The AWS docs only show canonical blocks; event-ruler's CIDR.java
 * instead starts the range at `addr` as written and refuses /32 and /128.
 */
export function parseCidr(text: string): CidrRange {
  const parts = text.split("/");
  if (parts.length !== 2) throw new Error(`malformed CIDR "${text}", exactly one '/' required`);
  const [addrText, bitsText] = parts;
  if (!/^\d{1,3}$/.test(bitsText)) throw new Error(`malformed CIDR "${text}", mask bits must be an integer`);
  const addr = parseIp(addrText);
  if (!addr) throw new Error(`malformed CIDR "${text}", "${addrText}" is not an IPv4 or IPv6 address`);
  const width = addr.family === 4 ? 32 : 128;
  const bits = Number(bitsText);
  if (bits > width) throw new Error(`malformed CIDR "${text}", IPv${addr.family} mask bits must be <= ${width}`);
  const hostBits = BigInt(width - bits);
  const hostMask = (1n << hostBits) - 1n;
  const low = addr.value & ~hostMask;
  return { family: addr.family, low, high: low | hostMask };
}

export function cidrContains(range: CidrRange, ip: IpAddress): boolean {
  return ip.family === range.family && ip.value >= range.low && ip.value <= range.high;
}
