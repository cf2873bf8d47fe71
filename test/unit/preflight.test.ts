import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HostFacts } from '../../src/facts.js';
import { clusterIdentityIn, clusterMarker, markerText, parseMarker } from '../../src/hostlib/marker.js';
import type { HostSpec, Inventory } from '../../src/inventory/schema.js';
import { inventorySchema } from '../../src/inventory/schema.js';
import { crossHostFindings, hostFindings } from '../../src/preflight.js';
import { hostFacts } from '../helpers/facts.js';

const facts = hostFacts;

const inventory = (version = '1.36.3'): Inventory =>
  inventorySchema.parse({
    cluster: { name: 'c', kubernetesVersion: version },
    hosts: [{ name: 'm1', address: '10.0.0.1', roles: ['etcd', 'master'] }],
  });
const master: HostSpec = inventory().hosts[0]!;
const blocks = (f: HostFacts, v?: string) =>
  hostFindings(master, f, inventory(v), 'c')
    .filter((x) => x.severity === 'block')
    .map((x) => x.message);

describe('preflight', () => {
  it('passes a good host', () => {
    expect(blocks(facts())).toEqual([]);
  });

  it.each([
    [{ arch: 'armv7l' }, /architecture/],
    [{ kernel: '4.9.0' }, /older than 4.19/],
    [{ cpus: 1 }, /at least 2/],
    [{ memoryMiB: 1024 }, /1700/],
    [{ clockSkewMs: 120_000 }, /clock is off/],
    [
      {
        os: {
          id: 'ubuntu',
          idLike: ['debian'],
          versionId: '18.04',
          codename: 'bionic',
          prettyName: 'Ubuntu 18.04',
        },
      },
      /too old/,
    ],
    [{ listeningPorts: [22, 2379] }, /2379.*already in use/],
  ] as const)('blocks %j', (override, message) => {
    expect(blocks(facts(override as Partial<HostFacts>)).join('\n')).toMatch(message);
  });

  it('warns of cgroup v1 from Kubernetes 1.35 on (kubelet told failCgroupV1: false), not before', () => {
    const warns = (v: string) =>
      hostFindings(master, facts({ cgroupVersion: 1 }), inventory(v), 'c')
        .filter((x) => x.severity === 'warn')
        .map((x) => x.message);
    expect(blocks(facts({ cgroupVersion: 1 }), '1.35.0')).toEqual([]);
    expect(warns('1.35.0').join()).toMatch(/failCgroupV1: false/);
    expect(warns('1.34.3').join()).not.toMatch(/failCgroupV1/);
  });

  it('refuses going back a minor from what a host runs, allows a patch back and any step forward', () => {
    const installed = (kubernetesInstalled: string, wanted: string) =>
      blocks(facts({ kubernetesInstalled, kubesmithCluster: 'c' }), wanted);
    const refused = installed('1.35.4\n', '1.34.4').join();
    expect(refused).toMatch(/m1 runs Kubernetes 1\.35\.4, and the inventory asks for 1\.34\.4/);
    expect(refused).toMatch(/set cluster\.kubernetesVersion to 1\.35\.4 or newer/);
    expect(installed('1.35.4', '1.35.2')).toEqual([]);
    expect(installed('1.34.4', '1.35.4')).toEqual([]);
    expect(installed('', '1.34.4')).toEqual([]);
    expect(installed('2.0.0', '1.37.0').join()).toMatch(/does not go back/);
    // Another cluster's record says nothing about this one: that host is refused for its marker.
    const foreign = blocks(facts({ kubernetesInstalled: '1.37.0', kubesmithCluster: 'other' }), '1.34.4');
    expect(foreign.join()).toMatch(/belongs to another kubesmith cluster/);
    expect(foreign.join()).not.toMatch(/runs Kubernetes/);
  });

  it('accepts ports used by this same cluster', () => {
    expect(blocks(facts({ listeningPorts: [2379, 6443], kubesmithCluster: 'c' }))).toEqual([]);
  });

  describe('cluster identity', () => {
    const ours = { name: 'c', id: 'a'.repeat(32) };
    const judged = (marker: string, ports = [2379, 6443]) =>
      hostFindings(master, facts({ listeningPorts: ports, kubesmithCluster: marker }), inventory(), ours)
        .filter((x) => x.severity === 'block')
        .map((x) => x.message);

    it('accepts a host holding this cluster id', () => {
      expect(judged(markerText(ours))).toEqual([]);
    });

    it('refuses a host of another cluster of the same name, naming the host and the fix', () => {
      const other = markerText({ name: 'c', id: 'b'.repeat(32) });
      const refused = judged(other).join();
      expect(refused).toMatch(/m1 belongs to another kubesmith cluster/);
      expect(refused).toContain(`id ${'b'.repeat(32)}`);
      expect(refused).toMatch(/delete \/etc\/kubesmith\/\)/);
      // The same name with another id may be this cluster after the deploy machine lost its id.
      expect(refused).toMatch(/copy cluster-id back from a backup folder/);
      expect(judged(other, [22]).join()).toMatch(/another kubesmith cluster/);
    });

    it('refuses a host marked by a cluster of another name, even with no port in use', () => {
      expect(judged('prod\n', [22]).join()).toMatch(/says 'prod'/);
      expect(judged('prod\n', [22]).join()).not.toMatch(/copy cluster-id back/);
    });

    it('accepts a marker from before cluster ids (name only), which the steps then rewrite with the id', () => {
      expect(judged('c\n')).toEqual([]);
      expect(parseMarker('c\n')).toEqual({ name: 'c' });
      expect(clusterMarker(inventory(), ours)).toMatchObject({ content: `name=c\nid=${'a'.repeat(32)}\n` });
    });

    it('keeps one random id per cluster in its state dir, made once', () => {
      const dir = join(mkdtempSync(join(tmpdir(), 'ks-id-')), 'clusters', 'c');
      const first = clusterIdentityIn(dir, 'c');
      expect(first.id).toMatch(/^[0-9a-f]{32}$/);
      expect(clusterIdentityIn(dir, 'c')).toEqual(first);
      expect(readFileSync(join(dir, 'cluster-id'), 'utf8').trim()).toBe(first.id);
      expect(clusterIdentityIn(join(dir, '..', 'd'), 'd').id).not.toBe(first.id);
    });
  });

  it('finds cloned machines across hosts', () => {
    const found = crossHostFindings(
      new Map([
        ['a', facts()],
        ['b', facts()],
        ['c', facts({ productUuid: 'z', macs: ['52:54:00:00:00:09'] })],
      ]),
    );
    expect(
      found
        .filter((f) => f.severity === 'block')
        .map((f) => f.host)
        .sort(),
    ).toEqual(['a', 'a', 'b', 'b']);
  });
});
