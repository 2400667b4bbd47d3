import { describe, expect, it } from 'vitest';
import { describeHostNameProblem, isIPv4, parseHostPort, readIPv6, scanHostSpec } from '../../src/relays/host-port.js';

const isIPv6 = (text: string) => readIPv6(text, 0, text.length, new Uint16Array(8)) !== -1;

describe('parseHostPort', () => {
  it.each([
    ['relay.corp.example', { host: 'relay.corp.example', port: 52311 }],
    ['  relay.corp.example:8080 ', { host: 'relay.corp.example', port: 8080 }],
    ['198.18.0.1', { host: '198.18.0.1', port: 52311 }],
    ['198.18.0.1:1', { host: '198.18.0.1', port: 1 }],
    ['[2001:db8::1]:65535', { host: '2001:db8::1', port: 65535 }],
    ['[2001:db8::1]', { host: '2001:db8::1', port: 52311 }],
    ['2001:db8::1', { host: '2001:db8::1', port: 52311 }],
    ['::ffff:198.18.0.1', { host: '::ffff:198.18.0.1', port: 52311 }],
    ['http://relay.corp.example:52311/bfmirror/downloads/', { host: 'relay.corp.example', port: 52311 }],
    ['HTTPS://relay.corp.example:443', { host: 'relay.corp.example', port: 443 }],
    ['http://relay.corp.example/', { host: 'relay.corp.example', port: 52311 }],
    ['http://[2001:db8::9]:52311/cgi-bin/bfenterprise/clientregister.exe?x', { host: '2001:db8::9', port: 52311 }],
    ['relay.corp.example.', { host: 'relay.corp.example.', port: 52311 }],
  ])('%s', (text, expected) => {
    expect(parseHostPort(text)).toEqual(expected);
  });

  it('uses the default port given', () => {
    expect(parseHostPort('relay', 80)).toEqual({ host: 'relay', port: 80 });
    expect(parseHostPort('relay:81', 80)).toEqual({ host: 'relay', port: 81 });
  });

  it.each([
    ['', 'host is empty; expected host[:port]'],
    ['   ', 'host is empty; expected host[:port]'],
    ['relay:70000', 'port 70000 is out of range; expected 1..65535'],
    ['relay:0', 'port 0 is out of range; expected 1..65535'],
    ['relay:', 'port is empty; expected an integer 1..65535'],
    ['relay:http', 'port "http" is not a number; expected an integer 1..65535'],
    ['[2001:db8::1]x', 'unexpected "x" after "]"; expected :port'],
    ['[relay]:80', '"relay" is not an IPv6 address; expected [IPv6-address]:port inside brackets'],
    [
      '2001:db8::1::2',
      '"2001:db8::1::2" is not an IPv6 address; expected host:port, [IPv6-address]:port or a bare IPv6 address',
    ],
    ['http://user@relay:52311/', '"http://user@relay:52311/" contains user information; expected scheme://host:port/'],
    ['http:///x', '"http:///x" has no host; expected scheme://host:port/'],
    [
      'relay one',
      'host "relay one" contains " "; expected a DNS name (letters, digits, "-", "_", ".") or an IP address',
    ],
    [
      '-relay.corp.example',
      'host "-relay.corp.example" has a label starting or ending with "-"; expected a DNS name or an IP address',
    ],
    [
      'relay..corp',
      'host "relay..corp" has an empty label; expected a DNS name like relay.corp.example or an IP address',
    ],
    ['198.18.0.256', 'host "198.18.0.256" is not a valid IPv4 address; expected four numbers 0..255 separated by "."'],
  ])('refuses %j', (text, error) => {
    expect(parseHostPort(text)).toEqual({ error });
  });

  it('refuses labels over 63 and names over 253 characters', () => {
    expect(parseHostPort(`${'a'.repeat(64)}.example`)).toEqual({
      error: `host "${'a'.repeat(64)}.example" has a label longer than 63 characters; expected a DNS name or an IP address`,
    });
    const long = Array.from({ length: 64 }, () => 'abc').join('.');
    expect(parseHostPort(long)).toEqual({ error: `host name is ${long.length} characters long; expected at most 253` });
  });

  it('returns an error, not a throw, for a non-string', () => {
    expect(parseHostPort(42 as unknown as string)).toEqual({ error: 'expected a string host[:port]' });
  });
});

describe('scanHostSpec', () => {
  it('reports the offset of the bad part within the text', () => {
    expect(scanHostSpec('xx relay:99999 yy', 3, 14)).toEqual({
      error: 'port 99999 is out of range; expected 1..65535',
      offset: 9,
    });
    expect(scanHostSpec('relay:80', 0, 8)).toEqual({ host: 'relay', port: 80, portOffset: 6, ipv6: false });
    expect(scanHostSpec('[::1]:80', 0, 8)).toEqual({ host: '::1', port: 80, portOffset: 6, ipv6: true });
    expect(scanHostSpec('relay', 0, 5)).toEqual({ host: 'relay', port: undefined, portOffset: -1, ipv6: false });
  });
});

describe('isIPv4 / readIPv6 / describeHostNameProblem', () => {
  it('accepts dotted quads without leading zeros only', () => {
    expect(['198.18.0.1', '0.0.0.0', '255.255.255.255'].map(isIPv4)).toEqual([true, true, true]);
    expect(['198.18.0', '198.18.0.01', '1.2.3.4.5', '256.1.1.1', '1..2.3', ''].map(isIPv4)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it('agrees with the usual IPv6 forms', () => {
    const valid = [
      '::',
      '::1',
      '1::',
      '2001:db8::20',
      '1:2:3:4:5:6:7:8',
      '1:2:3:4:5:6:7::',
      '::ffff:198.18.0.1',
      'fe80::1%eth0',
    ];
    const invalid = [
      '1:2:3:4:5:6:7:8:9',
      '1::2::3',
      ':1',
      '1:',
      '12345::',
      'g::1',
      '1:2:3:4:5:6:7',
      'fe80::1%',
      '::1.2.3.04',
      '1:::2',
    ];
    expect(valid.filter((text) => !isIPv6(text))).toEqual([]);
    expect(invalid.filter((text) => isIPv6(text))).toEqual([]);
  });

  it('reads the eight words of an IPv6 literal and returns where a zone starts', () => {
    const words = new Uint16Array(8);
    expect(readIPv6('x 2001:DB8::ffff:198.18.0.1%eth0', 2, 32, words)).toBe(27);
    expect([...words]).toEqual([0x2001, 0xdb8, 0, 0, 0, 0xffff, 0xc612, 0x0001]);
    expect(readIPv6('1::8', 0, 4, words)).toBe(4);
    expect([...words]).toEqual([1, 0, 0, 0, 0, 0, 0, 8]);
  });

  it('accepts underscores (common in internal names) and a trailing dot', () => {
    expect(describeHostNameProblem('relay_01.corp.example.')).toBeUndefined();
  });
});
