import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockedReason } from '../src/index.ts';

test('non-public IPv4 and IPv6 literals are refused with their reason', () => {
  const cases: Array<[string, string]> = [
    ['127.0.0.1', 'loopback'], ['127.255.0.9', 'loopback'], ['10.1.2.3', 'private'], ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'], ['192.168.1.1', 'private'], ['100.64.0.1', 'cgnat'], ['100.127.255.254', 'cgnat'],
    ['169.254.1.1', 'link-local'], ['169.254.169.254', 'metadata'], ['0.0.0.0', 'unspecified'], ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'], ['::1', 'loopback'], ['::', 'unspecified'], ['fc00::1', 'private'], ['fd12:3456::1', 'private'],
    ['fe80::1', 'link-local'], ['febf::1', 'link-local'], ['ff02::1', 'multicast'], ['fd00:ec2::254', 'metadata'],
    ['::ffff:127.0.0.1', 'loopback (IPv4 in IPv6)'], ['::ffff:7f00:1', 'loopback (IPv4 in IPv6)'],
    ['::ffff:169.254.169.254', 'metadata (IPv4 in IPv6)'], ['::10.0.0.1', 'private (IPv4 in IPv6)'],
    ['64:ff9b::192.168.0.1', 'private (IPv4 in IPv6)'], ['2002:7f00:1::', 'loopback (IPv4 in IPv6)'],
    ['0:0:0:0:0:ffff:a00:1', 'private (IPv4 in IPv6)'],
  ];
  for (const [ip, reason] of cases) assert.equal(blockedReason(ip), reason, ip);
});

test('public addresses pass', () => {
  for (const ip of ['93.184.216.34', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '2a00:1450::1']) {
    assert.equal(blockedReason(ip), null, ip);
  }
  assert.equal(blockedReason('example.com'), 'not an IP address');
});

test('IANA special-purpose ranges beyond the basics (ipaddr.js + the few it lacks)', () => {
  const cases: Array<[string, string]> = [
    // IPv4 carried in IPv6: mapped, translated (SIIT), NAT64 well-known prefix, 6to4
    ['::ffff:0:10.0.0.1', 'private (IPv4 in IPv6)'], ['::ffff:0:a00:1', 'private (IPv4 in IPv6)'],
    ['::ffff:0:7f00:1', 'loopback (IPv4 in IPv6)'], ['64:ff9b::a9fe:a9fe', 'metadata (IPv4 in IPv6)'],
    ['2002:a9fe:a9fe::1', 'metadata (IPv4 in IPv6)'],
    // local-use NAT64 (RFC 8215) is not globally reachable, whatever it embeds
    ['64:ff9b:1::808:808', 'nat64 local-use'], ['64:ff9b:1:ffff::1', 'nat64 local-use'],
    ['100:0:0:1::1', 'reserved'], ['100::1', 'reserved'], ['2001:db8::1', 'reserved'], ['3fff::1', 'reserved'], ['5f00::1', 'reserved'],
    ['2001:2::1', 'reserved'], ['2001::1', 'reserved'], ['2001:10::1', 'reserved'], ['2001:20::1', 'reserved'],
    ['4000::1', 'reserved'], ['fec0::1', 'link-local'], ['fe80::1%eth0', 'link-local'],
    ['169.254.170.2', 'metadata'], ['100.100.100.200', 'metadata'], ['192.0.0.8', 'reserved'], ['192.0.0.170', 'reserved'],
    ['192.88.99.1', 'reserved'], ['198.18.0.1', 'reserved'], ['198.19.255.255', 'reserved'], ['240.0.0.1', 'reserved'],
    ['192.31.196.1', 'reserved'], ['192.175.48.1', 'reserved'],
  ];
  for (const [ip, reason] of cases) assert.equal(blockedReason(ip), reason, ip);
});

test('only dotted-quad IPv4 counts as an address (legacy forms are refused, not guessed)', () => {
  for (const s of ['0x7f.1', '2130706433', '017700000001', '127.1', '0x7f000001']) assert.equal(blockedReason(s), 'not an IP address', s);
});

test('public IPv6 and NAT64 of public IPv4 pass', () => {
  for (const ip of ['2001:4860:4860::8888', '64:ff9b::808:808', '::ffff:0:808:808', '2002:808:808::1', '2a03:2880:f10c:83:face:b00c:0:25de']) {
    assert.equal(blockedReason(ip), null, ip);
  }
});
