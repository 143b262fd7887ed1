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
