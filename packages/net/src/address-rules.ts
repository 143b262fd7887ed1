// Which IP addresses outbound requests must not reach: anything the IANA special-purpose address
// registries (IPv4 and IPv6) do not mark globally reachable, plus cloud metadata endpoints. The
// ranges come from ipaddr.js (maintained against those registries) rather than a hand-kept list;
// the few it lacks are added below. IPv4 carried in IPv6 (mapped ::ffff:0:0/96, translated
// ::ffff:0:0:0/96, compatible ::/96, NAT64 64:ff9b::/96, 6to4 2002::/16) is judged by its IPv4
// address, since that is where a dual-stack socket or a translator sends it.
import ipaddr from 'ipaddr.js';

type IPv4 = ipaddr.IPv4;
type IPv6 = ipaddr.IPv6;

const cidr = (s: string): [IPv4 | IPv6, number] => ipaddr.parseCIDR(s);

/** Metadata services answer on link-local / private addresses anyway; named so logs say why. */
const METADATA: Array<[IPv4 | IPv6, number]> = [
  cidr('169.254.169.254/32'), // AWS, GCP, Azure, OpenStack…
  cidr('169.254.170.2/32'), // AWS ECS task metadata
  cidr('100.100.100.200/32'), // Alibaba Cloud
  cidr('fd00:ec2::254/128'), // AWS IPv6
];

/** Not globally reachable per IANA, missing from ipaddr.js's tables. */
const EXTRA_V6: Record<string, Array<[IPv6, number]>> = {
  reserved: [cidr('100:0:0:1::/64') as [IPv6, number]], // RFC 9780 dummy prefix
};

/** ipaddr.js range names → the reasons we report. 'unicast' (ordinary) is not listed. */
const REASONS: Record<string, string> = {
  unspecified: 'unspecified', broadcast: 'reserved', multicast: 'multicast', linkLocal: 'link-local',
  loopback: 'loopback', carrierGradeNat: 'cgnat', private: 'private', reserved: 'reserved', as112: 'reserved',
  amt: 'reserved', uniqueLocal: 'private', deprecatedSiteLocal: 'link-local', discard: 'reserved',
  teredo: 'reserved', benchmarking: 'reserved', as112v6: 'reserved', deprecatedOrchid: 'reserved', orchid2: 'reserved',
  droneRemoteIdProtocolEntityTags: 'reserved', segmentRouting: 'reserved', rfc6052: 'nat64',
};

const isMetadata = (addr: IPv4 | IPv6): boolean =>
  METADATA.some(([net, bits]) => net.kind() === addr.kind() && addr.match(net, bits));

function v4Reason(addr: IPv4): string | null {
  if (isMetadata(addr)) return 'metadata';
  const range = addr.range();
  return range === 'unicast' ? null : (REASONS[range] ?? 'reserved');
}

const v4Of = (hi: number, lo: number): IPv4 => new ipaddr.IPv4([hi >> 8, hi & 255, lo >> 8, lo & 255]);

/** The IPv4 address an IPv6 address carries, if it is one of the embedding forms. */
function embeddedIpv4(addr: IPv6): IPv4 | null {
  const p = addr.parts;
  const zero = (from: number, to: number) => p.slice(from, to).every((x) => x === 0);
  if (zero(0, 5) && p[5] === 0xffff) return v4Of(p[6], p[7]); // ::ffff:a.b.c.d mapped
  if (zero(0, 4) && p[4] === 0xffff && p[5] === 0) return v4Of(p[6], p[7]); // ::ffff:0:a.b.c.d translated (SIIT)
  if (zero(0, 6) && (p[6] !== 0 || p[7] > 1)) return v4Of(p[6], p[7]); // ::a.b.c.d compatible (deprecated)
  if (p[0] === 0x64 && p[1] === 0xff9b && zero(2, 6)) return v4Of(p[6], p[7]); // NAT64 well-known prefix /96
  if (p[0] === 0x2002) return v4Of(p[1], p[2]); // 6to4
  return null;
}

function v6Reason(addr: IPv6): string | null {
  if (isMetadata(addr)) return 'metadata';
  const v4 = embeddedIpv4(addr);
  if (v4) {
    const r = v4Reason(v4);
    return r ? `${r} (IPv4 in IPv6)` : null;
  }
  for (const [reason, nets] of Object.entries(EXTRA_V6)) if (nets.some(([net, bits]) => addr.match(net, bits))) return reason;
  const range = addr.range();
  if (range !== 'unicast') return range === 'rfc6052' ? 'nat64 local-use' : (REASONS[range] ?? 'reserved'); // 64:ff9b:1::/48 is local
  // Only 2000::/3 is allocated for global unicast; everything else is unassigned.
  return addr.match(ipaddr.IPv6.parse('2000::'), 3) ? null : 'reserved';
}

/** Why an address must not be reached ('loopback', 'private', 'metadata'…), or null if it is public. */
export function blockedReason(ip: string): string | null {
  const bare = ip.split('%')[0]; // a zone id does not change where the address points
  if (!ipaddr.isValid(bare)) return 'not an IP address';
  // ipaddr.js also accepts legacy IPv4 forms ("0x7f.1", "2130706433"); only dotted quads are addresses here.
  if (!ipaddr.IPv6.isValid(bare) && !ipaddr.IPv4.isValidFourPartDecimal(bare)) return 'not an IP address';
  const addr = ipaddr.parse(bare);
  return addr.kind() === 'ipv4' ? v4Reason(addr as IPv4) : v6Reason(addr as IPv6);
}

export function isPublicAddress(ip: string): boolean {
  return blockedReason(ip) === null;
}
