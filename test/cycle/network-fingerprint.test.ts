import { describe, expect, it } from 'vitest';
import { decideCycle } from '../../src/cycle/decide.js';
import {
  describeNetworkChange,
  parseIpv4DefaultRoute,
  parseIpv6DefaultRoute,
} from '../../src/cycle/network-fingerprint.js';
import { readNetworkFingerprint } from '../../src/cycle/read-network-fingerprint.js';
import type { NetworkFingerprint } from '../../src/cycle/state.js';
import { settings } from '../helpers/settings.js';
import { T0, at, state } from './builders.js';

const ROUTE_HEADER = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT';

describe('parseIpv4DefaultRoute (/proc/net/route)', () => {
  it('finds the default route of lowest metric, its gateway in host byte order', () => {
    const text = [
      ROUTE_HEADER,
      'wlan0\t00000000\t0100A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0',
      'eth0\t00000000\t011212C6\t0003\t0\t0\t100\t00000000\t0\t0\t0',
      'eth0\t001212C6\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0',
    ].join('\n');
    expect(parseIpv4DefaultRoute(text, true)).toEqual({ gateway: '198.18.18.1', interface: 'eth0' });
    expect(parseIpv4DefaultRoute(text, false)).toEqual({ gateway: '1.18.18.198', interface: 'eth0' });
  });

  it('gives a route straight onto a device (a VPN tunnel) no gateway, and skips routes that are down', () => {
    expect(
      parseIpv4DefaultRoute(`${ROUTE_HEADER}\ntun0\t00000000\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0\n`, true),
    ).toEqual({ gateway: null, interface: 'tun0' });
    expect(
      parseIpv4DefaultRoute(`${ROUTE_HEADER}\neth0\t00000000\t011212C6\t0002\t0\t0\t0\t00000000\t0\t0\t0\n`, true),
    ).toBeNull();
    expect(parseIpv4DefaultRoute(ROUTE_HEADER, true)).toBeNull();
  });
});

describe('parseIpv6DefaultRoute (/proc/net/ipv6_route)', () => {
  it('finds the default route and spells its gateway canonically, ignoring the unreachable route on lo', () => {
    const text = [
      '20010db8000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0',
      '00000000000000000000000000000000 00 00000000000000000000000000000000 00 20010db8000000000000000000000001 00000400 00000001 00000000 00000003     eth0',
      '00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo',
    ].join('\n');
    expect(parseIpv6DefaultRoute(text)).toEqual({ gateway: '2001:db8::1', interface: 'eth0' });
    expect(parseIpv6DefaultRoute(text.split('\n')[2]!)).toBeNull();
  });
});

describe('describeNetworkChange', () => {
  const base: NetworkFingerprint = {
    ipv4: { gateway: '198.18.0.1', interface: 'e0' },
    ipv6: null,
    source: { toward: '198.18.9.9', address: '198.18.0.2' },
  };

  it('is null for the same network', () => {
    expect(describeNetworkChange(base, structuredClone(base))).toBeNull();
  });

  it('says how the default routes and the source address changed (dock, undock, VPN up)', () => {
    expect(describeNetworkChange(base, { ...base, ipv4: { gateway: '198.18.0.5', interface: 'e1' } })).toBe(
      'the IPv4 default route moved from via 198.18.0.1 on e0 to via 198.18.0.5 on e1',
    );
    expect(describeNetworkChange(base, { ...base, ipv4: null })).toBe(
      'the IPv4 default route (via 198.18.0.1 on e0) went away',
    );
    expect(describeNetworkChange(base, { ...base, ipv6: { gateway: 'fe80::1', interface: 'e0' } })).toBe(
      'an IPv6 default route appeared (via fe80::1 on e0)',
    );
    expect(describeNetworkChange(base, { ...base, source: { toward: '198.18.9.9', address: '10.8.0.2' } })).toBe(
      'the source address toward 198.18.9.9 changed from 198.18.0.2 to 10.8.0.2',
    );
  });

  it('does not compare source addresses taken toward different relays', () => {
    expect(
      describeNetworkChange(base, { ...base, source: { toward: '198.18.7.7', address: '198.18.0.9' } }),
    ).toBeNull();
  });
});

describe('decideCycle, network-changed', () => {
  const change = 'the IPv4 default route moved from via 198.18.0.1 on e0 to via 198.18.0.5 on e1';

  it('selects at once, before a pending retry or an upstream back-off', () => {
    const pending = state({
      current: null,
      retry: { attempt: 2, nextAt: at(3600).toISOString(), delaySeconds: 3600, reason: 'x' },
    });
    expect(
      decideCycle({
        state: pending,
        settings: settings(),
        now: at(10),
        currentInRelayList: true,
        networkChange: change,
      }),
    ).toMatchObject({ action: 'select', rule: 'network-changed', reason: `the network changed: ${change}` });
    const backingOff = state({ upstreamBackoff: { attempt: 1, nextAt: at(600).toISOString(), delaySeconds: 600 } });
    expect(
      decideCycle({
        state: backingOff,
        settings: settings(),
        now: at(10),
        currentInRelayList: true,
        networkChange: change,
      }).rule,
    ).toBe('network-changed');
  });

  it('leaves a first run its own rule', () => {
    const fresh = state({ current: null, lastSelectionAt: null, lastAttemptAt: null });
    expect(
      decideCycle({ state: fresh, settings: settings(), now: T0, currentInRelayList: true, networkChange: change })
        .rule,
    ).toBe('first-run');
  });
});

describe('readNetworkFingerprint (this machine)', () => {
  it('reads the routes and the source address toward loopback without sending anything', async () => {
    const fingerprint = await readNetworkFingerprint({ toward: '127.0.0.1' });
    expect(fingerprint).not.toBeNull();
    expect(fingerprint!.source).toEqual({ toward: '127.0.0.1', address: '127.0.0.1' });
    expect(await readNetworkFingerprint({})).toMatchObject({ source: null });
  });
});
