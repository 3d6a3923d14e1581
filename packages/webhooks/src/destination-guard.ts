import { lookup as dnsLookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import { WebhookDestinationError } from "./errors.js";

/** One resolved address of a host name. */
export type ResolvedAddress = {
  address: string;
  /** 4 or 6 */
  family: number;
};

/** Resolves a host name to all its addresses. @default `dns.lookup(host, { all: true })` */
export type HostLookup = (hostname: string) => Promise<ResolvedAddress[]>;

/** The default {@link HostLookup}: the system resolver, every address. */
export const systemLookup: HostLookup = async (hostname) =>
  dnsLookup(hostname, { all: true, verbatim: true });

const V4 = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8], // "this network", includes the unspecified address
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local, cloud metadata services
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved and broadcast
] as const) {
  V4.addSubnet(net, prefix, "ipv4");
}

const V6 = new BlockList();
for (const [net, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["fec0::", 10], // old site-local
  ["ff00::", 8], // multicast
  ["2001:db8::", 32], // documentation
  ["100::", 64], // discard
] as const) {
  V6.addSubnet(net, prefix, "ipv6");
}

/**
 * True when an IP address is not a public unicast address: loopback, private,
 * link-local, unique-local, CGNAT, multicast, unspecified, documentation or reserved,
 * including those ranges written as IPv4-mapped, IPv4-compatible, NAT64 or 6to4 IPv6.
 * Anything that is not an IP address counts as private.
 *
 * @example
 * ```ts
 * isPrivateAddress("10.0.0.1"); // true
 * isPrivateAddress("::ffff:127.0.0.1"); // true
 * isPrivateAddress("93.184.216.34"); // false
 * ```
 */
export function isPrivateAddress(address: string): boolean {
  const plain = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const version = isIP(plain);
  if (version === 4) return V4.check(plain, "ipv4");
  if (version !== 6) return true;
  const bytes = ipv6Bytes(plain);
  if (!bytes) return true;
  const embedded = embeddedIpv4(bytes);
  if (embedded !== null) return V4.check(embedded, "ipv4");
  return V6.check(plain, "ipv6");
}

/** The IPv4 address an IPv6 address carries (mapped, compatible, NAT64, 6to4), if any. */
function embeddedIpv4(b: number[]): string | null {
  const tail = (o: number) => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
  const zero = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  if (zero(0, 10) && b[10] === 0xff && b[11] === 0xff) return tail(12); // ::ffff:a.b.c.d
  if (zero(0, 12) && !zero(12, 16)) {
    // ::a.b.c.d (deprecated IPv4-compatible); ::1 and :: are matched as IPv6 below.
    if (!(zero(12, 15) && (b[15] === 0 || b[15] === 1))) return tail(12);
  }
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zero(4, 12)) {
    return tail(12); // 64:ff9b::/96 NAT64
  }
  if (b[0] === 0x20 && b[1] === 0x02) return tail(2); // 2002::/16 6to4
  return null;
}

function ipv6Bytes(address: string): number[] | null {
  let text = address;
  let v4: number[] = [];
  const lastColon = text.lastIndexOf(":");
  if (text.includes(".", lastColon)) {
    v4 = text
      .slice(lastColon + 1)
      .split(".")
      .map(Number);
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head, tail, extra] = text.split("::");
  if (extra !== undefined) return null;
  const parse = (s: string | undefined) =>
    s ? s.split(":").map((h) => Number.parseInt(h, 16)) : [];
  const left = parse(head);
  const right = parse(tail);
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array(8 - left.length - right.length).fill(0), ...right];
  if (groups.length !== 8 || groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) {
    return null;
  }
  const bytes = groups.flatMap((g) => [g >> 8, g & 0xff]);
  if (v4.length === 4) bytes.splice(12, 4, ...v4);
  return bytes;
}

/** Options of {@link assertPublicDestination}. */
export type DestinationOptions = {
  /** Allow loopback, private and link-local destinations. @default false */
  allowPrivateNetworks?: boolean;
  /** How host names are resolved. @default systemLookup */
  lookup?: HostLookup;
};

/**
 * Checks a webhook URL before anything connects: http or https only, and unless
 * `allowPrivateNetworks`, every address the host resolves to must be public. Returns
 * the parsed URL and the addresses checked.
 *
 * @throws WebhookDestinationError when the destination is refused
 *
 * @example
 * ```ts
 * await assertPublicDestination("https://hooks.example.com/in"); // ok
 * await assertPublicDestination("http://169.254.169.254/latest"); // throws
 * ```
 */
export async function assertPublicDestination(
  url: string | URL,
  options: DestinationOptions = {},
): Promise<{ url: URL; addresses: ResolvedAddress[] }> {
  const parsed = parseDestination(url);
  const host = parsed.hostname.replace(/^\[|\]$/g, "");
  const family = isIP(host);
  const addresses: ResolvedAddress[] = family
    ? [{ address: host, family }]
    : await resolve(options.lookup ?? systemLookup, host, redact(parsed));
  if (!options.allowPrivateNetworks) checkAddresses(redact(parsed), host, addresses);
  return { url: parsed, addresses };
}

/** Internal: parses and checks the scheme of a destination URL. */
export function parseDestination(url: string | URL): URL {
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch (cause) {
    throw new WebhookDestinationError(
      "(unparsable)",
      'webhook URL is not a valid absolute URL: getWebhookUrlForTopic must return e.g. "https://hooks.example.com/events"',
      { cause },
    );
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new WebhookDestinationError(
      redact(parsed),
      `webhook URL scheme "${parsed.protocol}" is refused: only http: and https: destinations are allowed`,
    );
  }
  return parsed;
}

/** Internal: refuses when any address is private. */
export function checkAddresses(
  destination: string,
  host: string,
  addresses: readonly ResolvedAddress[],
): void {
  if (addresses.length === 0) {
    throw new WebhookDestinationError(destination, `webhook host ${host} resolved to no address`);
  }
  for (const { address } of addresses) {
    if (isPrivateAddress(address)) {
      throw new WebhookDestinationError(
        destination,
        `webhook destination ${destination} is refused: ${host === address ? "it is" : `${host} resolves to`} ${address}, a loopback, private, link-local or reserved address. Use a public URL, or set allowPrivateNetworks: true if you really mean to call an internal service`,
        { address },
      );
    }
  }
}

/** Internal: resolves a host, mapping resolver failures to a destination error. */
export async function resolve(
  lookup: HostLookup,
  host: string,
  destination: string,
): Promise<ResolvedAddress[]> {
  try {
    return await lookup(host);
  } catch (cause) {
    throw new WebhookDestinationError(
      destination,
      `could not resolve webhook host ${host}: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}

/** Internal: a URL without credentials and query string, safe to log. */
export function redact(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}
