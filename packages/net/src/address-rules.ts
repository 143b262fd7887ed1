// Which IP addresses outbound requests must not reach: anything not globally routable, plus cloud
// metadata endpoints. IPv4 embedded in IPv6 (mapped, compatible, NAT64, 6to4) is checked as IPv4.
import { BlockList, isIP } from 'node:net';

type Rule = [cidr: string, reason: string];

const V4: Rule[] = [
  ['169.254.169.254/32', 'metadata'],
  ['0.0.0.0/8', 'unspecified'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'cgnat'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'reserved'],
  ['192.0.2.0/24', 'documentation'],
  ['192.88.99.0/24', 'reserved'],
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'benchmarking'],
  ['198.51.100.0/24', 'documentation'],
  ['203.0.113.0/24', 'documentation'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'],
];

const V6: Rule[] = [
  ['fd00:ec2::254/128', 'metadata'],
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['100::/64', 'reserved'],
  ['2001::/23', 'reserved'],
  ['2001:db8::/32', 'documentation'],
  ['fc00::/7', 'private'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'link-local'],
  ['ff00::/8', 'multicast'],
];

function lists(rules: Rule[], family: 'ipv4' | 'ipv6'): Array<[BlockList, string]> {
  return rules.map(([cidr, reason]) => {
    const [net, bits] = cidr.split('/');
    const bl = new BlockList();
    bl.addSubnet(net, Number(bits), family);
    return [bl, reason];
  });
}

const V4_LISTS = lists(V4, 'ipv4');
const V6_LISTS = lists(V6, 'ipv6');

/** Expands an IPv6 literal to 8 groups of 16 bits. */
function ipv6Groups(ip: string): number[] {
  let s = ip.toLowerCase().split('%')[0];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const o = v4[1].split('.').map(Number);
    s = s.slice(0, -v4[1].length) + `${((o[0] << 8) | o[1]).toString(16)}:${((o[2] << 8) | o[3]).toString(16)}`;
  }
  const [head, tail] = s.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const fill = s.includes('::') ? new Array(8 - h.length - t.length).fill('0') : [];
  return [...h, ...fill, ...t].map((g) => parseInt(g, 16));
}

function v4FromGroups(hi: number, lo: number): string {
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** The IPv4 address an IPv6 address carries, if it is one of the embedding forms. */
function embeddedIpv4(g: number[]): string | undefined {
  const zero = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zero(0, 5) && g[5] === 0xffff) return v4FromGroups(g[6], g[7]); // ::ffff:a.b.c.d mapped
  if (zero(0, 6) && (g[6] !== 0 || g[7] > 1)) return v4FromGroups(g[6], g[7]); // ::a.b.c.d compatible
  if (g[0] === 0x64 && g[1] === 0xff9b && zero(2, 6)) return v4FromGroups(g[6], g[7]); // NAT64
  if (g[0] === 0x2002) return v4FromGroups(g[1], g[2]); // 6to4
  return undefined;
}

/** Why an address must not be reached ('loopback', 'private', 'metadata'…), or null if it is public. */
export function blockedReason(ip: string): string | null {
  const family = isIP(ip);
  if (family === 4) {
    for (const [bl, reason] of V4_LISTS) if (bl.check(ip, 'ipv4')) return reason;
    return null;
  }
  if (family === 6) {
    const g = ipv6Groups(ip);
    const v4 = embeddedIpv4(g);
    if (v4) {
      const r = blockedReason(v4);
      return r ? `${r} (IPv4 in IPv6)` : null;
    }
    const canonical = g.map((x) => x.toString(16)).join(':');
    for (const [bl, reason] of V6_LISTS) if (bl.check(canonical, 'ipv6')) return reason;
    return null;
  }
  return 'not an IP address';
}

export function isPublicAddress(ip: string): boolean {
  return blockedReason(ip) === null;
}
