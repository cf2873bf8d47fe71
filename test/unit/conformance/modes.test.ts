import { describe, expect, it } from 'vitest';
import {
  AGNHOST,
  DEFAULT_SKIP,
  focusOf,
  JESSIE_DNSUTILS,
  PAUSE,
  selectionFor,
} from '../../../src/conformance/modes.js';

/** Full texts as e2e.test 1.34.4 names them (from its dry-run report). */
const NAMES = {
  quick: '[sig-node] Pods should be submitted and removed [NodeConformance] [Conformance]',
  basic: '[sig-network] Services should serve a basic endpoint from pods [Conformance]',
  lb: '[sig-network] Services should serve endpoints on same port and different protocol for internal traffic on Type LoadBalancer ',
  dns: '[sig-network] DNS should provide DNS for the cluster [Conformance]',
  dnsGce: '[sig-network] DNS should provide DNS for the cluster [Provider:GCE]',
  udp: '[sig-network] Networking Granular Checks: Pods should function for node-pod communication: udp [LinuxOnly] [NodeConformance] [Conformance]',
};

const matches = (pattern: string, name: string) => new RegExp(pattern).test(name);

describe('conformance modes', () => {
  it('quick is sonobuoy quick: Pods should be submitted and removed, needing only pause', () => {
    const { mode, groups } = selectionFor('quick');
    expect(mode).toBe('quick');
    expect(groups).toHaveLength(1);
    expect(matches(focusOf(groups), NAMES.quick)).toBe(true);
    expect(groups[0]!.images).toEqual([PAUSE]);
  });

  it('network selects Services, granular pod checks and DNS, and nothing that needs a load balancer or a cloud', () => {
    const { groups } = selectionFor('network');
    expect(groups.map((g) => g.title)).toHaveLength(9);
    const focus = focusOf(groups);
    for (const name of [NAMES.basic, NAMES.dns, NAMES.udp]) expect(matches(focus, name), name).toBe(true);
    for (const name of [NAMES.lb, NAMES.dnsGce, NAMES.quick]) expect(matches(focus, name), name).toBe(false);
    expect(groups.filter((g) => g.images.includes(JESSIE_DNSUTILS)).map((g) => g.title)).toEqual([
      '[sig-network] DNS should provide DNS for the cluster',
      '[sig-network] DNS should provide DNS for services',
    ]);
    expect(groups.every((g) => g.images.includes(AGNHOST))).toBe(true);
  });

  it('any other text is a focus expression of the user, images unknown', () => {
    const { mode, groups } = selectionFor('Secrets should be consumable');
    expect(mode).toBe('focus');
    expect(focusOf(groups)).toBe('Secrets should be consumable');
    expect(groups[0]!.images).toEqual([]);
  });

  it('the default skip leaves out serial, disruptive, flaky, feature-gated and provider tests', () => {
    for (const label of ['[Serial]', '[Disruptive]', '[Flaky]', '[Feature:SCTP]', '[Provider:GCE]'])
      expect(matches(DEFAULT_SKIP, `x ${label}`), label).toBe(true);
    for (const name of Object.values(NAMES).filter((n) => !n.includes('Provider')))
      expect(matches(DEFAULT_SKIP, name), name).toBe(false);
  });
});
