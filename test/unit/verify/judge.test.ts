import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { inventorySchema } from '../../../src/inventory/schema.js';
import { areasOf, judge } from '../../../src/verify/judge.js';
import type { Check } from '../../../src/verify/report.js';
import { type ClusterSnapshot, clusterSnapshotSchema } from '../../../src/verify/snapshot.js';

/** Snapshots recorded from a real lab cluster with `verify --save-evidence` (see test/fixtures/api/README.md). */
const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'api');
const snapshot = (name: string): ClusterSnapshot =>
  clusterSnapshotSchema.parse(JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')));

/** The schema alone: the recorded cluster's key file is not here, and no host is contacted. */
const inventory = inventorySchema.parse(parse(readFileSync(join(FIXTURES, 'inventory.yaml'), 'utf8')));

function checks(name: string): Map<string, Check> {
  const recorded = snapshot(name);
  const now = new Date(recorded.api?.readAt ?? Date.now());
  return new Map(judge(recorded, inventory, { areas: areasOf(undefined), now }).map((c) => [c.id, c]));
}

const failing = (all: Map<string, Check>) =>
  [...all.values()].filter((c) => c.status !== 'ok').map((c) => c.id);

describe('verify checks on recorded lab snapshots', () => {
  it('a healthy cluster: every check ok', () => {
    const all = checks('healthy');
    expect(failing(all)).toEqual([]);
    for (const id of [
      'etcd/health',
      'etcd/members',
      'etcd/storage',
      'control-plane/apiserver',
      'control-plane/leases',
      'control-plane/local-balancer',
      'nodes/ready',
      'nodes/version',
      'nodes/labels-taints',
      'nodes/services',
      'network/flannel',
      'addons/coredns',
      'addons/metrics-server',
      'addons/metrics-api',
    ])
      expect(all.get(id)?.status, id).toBe('ok');
    expect(all.get('nodes/version')?.evidence).toContain('vlab-4: v1.34.4');
  });

  it('kubelet stopped on a node: NotReady, its services down, the network DaemonSet short of that node', () => {
    const all = checks('node-notready');
    expect(all.get('nodes/ready')).toMatchObject({
      status: 'fail',
      summary: expect.stringContaining('vlab-4 Ready=Unknown'),
    });
    expect(all.get('nodes/services')?.evidence).toContain('vlab-4: kubelet inactive');
    const flannel = all.get('network/flannel')!;
    expect(flannel.status).toBe('fail');
    expect(flannel.summary).toMatch(/4 of 5 pod\(s\) ready/);
    expect(flannel.evidence.join('\n')).toContain('(vlab-4)');
    expect(all.get('etcd/health')?.status).toBe('ok');
  });

  it('one etcd member stopped: etcd/health names it, the others are judged healthy', () => {
    const all = checks('etcd-member-down');
    const health = all.get('etcd/health')!;
    expect(health.status).toBe('fail');
    expect(health.summary).toBe('1 of 3 member(s) unhealthy: vlab-3');
    expect(health.evidence).toEqual(
      expect.arrayContaining(['vlab-1: healthy', expect.stringMatching(/^vlab-3: unhealthy: /)]),
    );
    expect(all.get('etcd/storage')?.evidence).toContain('vlab-3: no status');
    expect(all.get('etcd/members')?.status).toBe('ok');
  });

  it("a node's kube-proxy stopped: the unit and its /healthz named", () => {
    const services = checks('kube-proxy-down').get('nodes/services')!;
    expect(services.status).toBe('fail');
    expect(services.evidence).toEqual(
      expect.arrayContaining([
        'vlab-5: kube-proxy inactive',
        expect.stringMatching(/^vlab-5: kube-proxy \/healthz no answer/),
      ]),
    );
  });

  it('a crash-looping CoreDNS: fail, with the pod, its node and why it last exited', () => {
    const coredns = checks('coredns-crashloop').get('addons/coredns')!;
    expect(coredns.status).toBe('fail');
    expect(coredns.evidence.join('\n')).toMatch(/coredns-\S+ \(vlab-\d\): .*CrashLoopBackOff/);
    expect(coredns.hint).toMatch(/kubectl -n kube-system describe deployment coredns/);
  });

  it('an etcd alarm fails etcd/storage, named as etcd prints it (numbers) and read as its name', () => {
    // The healthy recording with etcdctl's answer for a raised NOSPACE alarm (its JSON shape, numbers as etcd prints them).
    const recorded = snapshot('healthy');
    const alarmed: ClusterSnapshot = {
      ...recorded,
      etcd: {
        ...recorded.etcd!,
        alarms:
          '{"header":{"cluster_id":14841639068965178418,"member_id":10276657743932975437,"revision":9,"raft_term":2},"alarms":[{"memberID":10276657743932975437,"alarm":1}]}',
      },
    };
    const storage = judge(alarmed, inventory, { areas: new Set(['etcd']), now: new Date() }).find(
      (c) => c.id === 'etcd/storage',
    )!;
    expect(storage.status).toBe('fail');
    expect(storage.evidence).toContain('alarm NOSPACE on member 10276657743932975437');
    const unreadable = judge({ ...recorded, etcd: { ...recorded.etcd!, alarms: '' } }, inventory, {
      areas: new Set(['etcd']),
      now: new Date(),
    });
    expect(unreadable.find((c) => c.id === 'etcd/storage')?.evidence).toContain(
      'the alarm list could not be read',
    );
  });

  it('leases are judged at the time they were read, however long the smoke took after', () => {
    const recorded = snapshot('healthy');
    const later = new Date(Date.parse(recorded.api!.readAt) + 10 * 60_000);
    const leases = judge(recorded, inventory, { areas: new Set(['control-plane']), now: later }).find(
      (c) => c.id === 'control-plane/leases',
    );
    expect(leases?.status).toBe('ok');
  });

  it('only the areas of the steps verified are judged (01-03: etcd and its certificates)', () => {
    const areas = areasOf(['prepare', 'etcd', 'runtime', 'images']);
    expect([...areas].sort()).toEqual(['certificates', 'etcd']);
    const ids = judge(snapshot('healthy'), inventory, { areas, now: new Date() }).map((c) => c.id);
    expect(ids).toEqual(['etcd/health', 'etcd/members', 'etcd/storage']);
  });
});
