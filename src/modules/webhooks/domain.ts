import ipaddr from 'ipaddr.js';

/** Event-type patterns: an exact type ("invoice.paid"), a prefix wildcard ("invoice.*") or "*". */
export const eventPatternRegex = /^(\*|[a-z][a-z_]*(\.[a-z][a-z_]*)*(\.\*)?)$/;
export const maxEventPatterns = 50;

export function matchesEventType(patterns: readonly string[], type: string): boolean {
  return patterns.some((pattern) => {
    if (pattern === '*') return true;
    if (pattern.endsWith('.*')) return type.startsWith(pattern.slice(0, -1));
    return pattern === type;
  });
}

/**
 * Whether a webhook may not reach this address unless the operator allows it. Only ordinary
 * public unicast addresses pass (ranges from ipaddr.js, a maintained address library): loopback,
 * private (RFC 1918), unique-local and deprecated site-local (fec0::/10), link-local (cloud
 * metadata lives there), CGNAT, multicast, broadcast, unspecified, reserved and documentation
 * ranges are refused. IPv4-mapped and IPv4-compatible IPv6 forms are judged by the IPv4 address
 * they carry; the transition forms that embed another address (6to4 2002::/16, Teredo, NAT64)
 * are refused outright. Anything that is not an IP address is refused too.
 */
const ipv4Compatible = ipaddr.parseCIDR('::/96') as [ipaddr.IPv6, number];

export function isPrivateAddress(address: string): boolean {
  const bare = address.replace(/%.*$/, ''); // an IPv6 zone id (fe80::1%eth0) says nothing about the range
  if (!ipaddr.isValid(bare)) return true;
  const parsed = ipaddr.parse(bare);
  if (parsed.kind() === 'ipv6') {
    const v6 = parsed as ipaddr.IPv6;
    if (v6.range() === 'ipv4Mapped') return isPrivateAddress(v6.toIPv4Address().toString());
    // IPv4-compatible (::a.b.c.d, deprecated by RFC 4291; a URL parser writes it ::7f00:1): never a target.
    if (v6.match(ipv4Compatible)) return true;
  }
  return parsed.range() !== 'unicast';
}

/** Exponential backoff with "equal jitter": half the step fixed, half random. */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const step = Math.min(maxMs, baseMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  return Math.round(step / 2 + random() * (step / 2));
}
