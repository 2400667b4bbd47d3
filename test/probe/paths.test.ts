import { describe, expect, it } from 'vitest';
import { addressOrderKey, pathPrefixOf } from '../../src/probe/paths.js';

describe('pathPrefixOf', () => {
  it('takes the /24 of an IPv4 address and the /64 of an IPv6 one', () => {
    expect(pathPrefixOf('198.19.7.201', 4)).toBe('198.19.7.0/24');
    expect(pathPrefixOf('2001:db8:0:12::5', 6)).toBe('2001:db8:0:12::/64');
    expect(pathPrefixOf('2001:DB8:0:12:ffff::1', 6)).toBe('2001:db8:0:12::/64');
    expect(pathPrefixOf('fe80::1%eth0', 6)).toBe('fe80:0:0:0::/64');
    expect(pathPrefixOf('::ffff:198.19.0.1', 6)).toBe('0:0:0:0::/64');
  });

  it('gives text that is not an address a prefix of its own', () => {
    expect(pathPrefixOf('relay.example', 4)).toBe('relay.example');
    expect(pathPrefixOf('198.19.0.256', 4)).toBe('198.19.0.256');
    expect(pathPrefixOf('1:2:3:4:5:6:7:8:9', 6)).toBe('1:2:3:4:5:6:7:8:9');
    expect(pathPrefixOf('1::2::3', 6)).toBe('1::2::3');
  });
});

describe('addressOrderKey', () => {
  it('sorts addresses in numeric order', () => {
    const ipv4 = ['198.19.0.10', '198.19.0.9', '198.19.1.1', '198.18.255.255'];
    expect(
      [...ipv4].sort((left, right) => addressOrderKey(left, 4)!.localeCompare(addressOrderKey(right, 4)!)),
    ).toEqual(['198.18.255.255', '198.19.0.9', '198.19.0.10', '198.19.1.1']);
    const ipv6 = ['2001:db8::10', '2001:db8::9', '2001:db8::1:0', '2001:db8::a'];
    expect(
      [...ipv6].sort((left, right) => addressOrderKey(left, 6)!.localeCompare(addressOrderKey(right, 6)!)),
    ).toEqual(['2001:db8::9', '2001:db8::a', '2001:db8::10', '2001:db8::1:0']);
    expect(addressOrderKey('2001:db8::1.2.3.4', 6)).toBe(addressOrderKey('2001:db8::102:304', 6));
  });

  it('is null for text that is not an address', () => {
    expect(addressOrderKey('relay.example', 4)).toBeNull();
    expect(addressOrderKey('relay.example', 6)).toBeNull();
  });
});
