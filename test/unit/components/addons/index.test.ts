import { describe, expect, it } from 'vitest';
import { COREDNS_DEPLOYMENT } from '../../../../src/components/addons/coredns.js';
import { addonObjects } from '../../../../src/components/addons/index.js';
import { METRICS_SERVER_DEPLOYMENT } from '../../../../src/components/addons/metrics-server.js';
import {
  NODE_LOCAL_DNS_DAEMONSET,
  NODE_LOCAL_DNS_LAB_NOTE,
} from '../../../../src/components/addons/nodelocaldns.js';
import { expectWellFormed, find, inventory, leftPlaceholders } from './fixture.js';

describe('addonObjects', () => {
  it('lists CoreDNS, NodeLocal DNSCache and metrics-server, enabled by default, then the dashboard, disabled', () => {
    const addons = addonObjects(inventory());
    expect(addons.map(({ name, enabled, wait, note }) => ({ name, enabled, wait, note }))).toEqual([
      { name: 'coredns', enabled: true, wait: COREDNS_DEPLOYMENT, note: undefined },
      { name: 'nodelocaldns', enabled: true, wait: NODE_LOCAL_DNS_DAEMONSET, note: NODE_LOCAL_DNS_LAB_NOTE },
      { name: 'metrics-server', enabled: true, wait: METRICS_SERVER_DEPLOYMENT, note: undefined },
      { name: 'dashboard', enabled: false, wait: undefined, note: undefined },
    ]);
    for (const addon of addons.filter((a) => a.enabled)) {
      const { kind, namespace, name } = addon.wait!;
      expect(find(addon.objects, kind, name).metadata.namespace).toBe(namespace);
    }
  });

  it("honours the inventory's addons flags, still rendering the objects a disabled addon removes", () => {
    const addons = addonObjects(
      inventory({}, { coredns: false, nodeLocalDns: false, metricsServer: true, dashboard: true }),
    );
    expect(addons.map((a) => [a.name, a.enabled])).toEqual([
      ['coredns', false],
      ['nodelocaldns', false],
      ['metrics-server', true],
      ['dashboard', true],
    ]);
    for (const addon of addons) expect(addon.objects.length).toBeGreaterThan(0);
    const onlyDns = addonObjects(inventory({}, { metricsServer: false }));
    expect(onlyDns.map((a) => a.enabled)).toEqual([true, true, false, false]);
  });

  it('hands out well-formed objects with no placeholder but those node-cache fills', () => {
    const addons = addonObjects(inventory({ network: { proxyMode: 'iptables' } }));
    const objects = addons.flatMap((a) => a.objects);
    expectWellFormed(objects);
    expect(leftPlaceholders(objects, ['__PILLAR__CLUSTER__DNS__', '__PILLAR__UPSTREAM__SERVERS__'])).toEqual(
      [],
    );
  });
});
