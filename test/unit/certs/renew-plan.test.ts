import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostCertFiles } from '../../../src/certs/host-certs.js';
import { checkCas, formatRenewPlan, renewPlan } from '../../../src/certs/renew-plan.js';
import { InputError } from '../../../src/errors.js';
import { inventorySchema } from '../../../src/inventory/schema.js';
import { cas } from '../../../src/pki/spec.js';
import { ensurePki } from '../../../src/pki/store.js';

const inventory = (caValidityDays = 3650) =>
  inventorySchema.parse({
    cluster: { name: 'c', certificates: { caValidityDays, certValidityDays: 365 } },
    hosts: [
      { name: 'm1', address: '10.0.0.1', roles: ['etcd', 'master'] },
      { name: 'e2', address: '10.0.0.2', roles: ['etcd'] },
      { name: 'n1', address: '10.0.0.3', roles: ['node'] },
    ],
  });

describe('certs renew plan', () => {
  it('every leaf, no CA; etcd members, then masters, then kubelet hosts, each with its files and restarts', () => {
    const inv = inventory();
    const plan = renewPlan(inv);
    expect(plan.leaves).not.toContain('ca');
    expect(plan.leaves).toContain('etcd/server-e2');
    expect(plan.leaves).toContain('kubelet/n1-serving');
    expect(plan.phases.map((p) => [p.part, p.turns.map((t) => t.host)])).toEqual([
      ['etcd', ['m1', 'e2']],
      ['kube-master', ['m1']],
      ['kube-node', ['m1', 'n1']],
    ]);
    const n1 = plan.phases[2]!.turns[1]!;
    expect(n1).toEqual({
      host: 'n1',
      files: [
        '/var/lib/kubelet/pki/kubelet.crt',
        '/etc/kubernetes/kubelet.conf',
        '/etc/kubernetes/kube-proxy.conf',
      ],
      restarts: ['kubelet', 'kube-proxy'],
    });
    const text = formatRenewPlan('c', { ...plan, warnings: ['w'] });
    expect(text).toMatch(/1\. an etcd snapshot/);
    expect(text).toMatch(/3\. etcd members .*\n +m1: .*-> restart etcd\n +e2: /);
    expect(text).toMatch(/6\. the cluster's health checked/);
    expect(text).toContain('warning: w');
  });

  it('knows every certificate file a host holds, each path once, by role', () => {
    const [m1, e2, n1] = inventory().hosts;
    const paths = (h: typeof m1) => hostCertFiles(h!).map((f) => f.path);
    expect(paths(m1)).toHaveLength(18);
    expect(new Set(paths(m1)).size).toBe(18);
    expect(paths(e2)).toEqual([
      '/etc/etcd/pki/ca.crt',
      '/etc/etcd/pki/server.crt',
      '/etc/etcd/pki/peer.crt',
      '/etc/etcd/pki/kubesmith-client.crt',
    ]);
    expect(hostCertFiles(n1!).map((f) => f.id)).toEqual([
      'ca',
      'kubelet/n1-serving',
      'kubelet/n1-client',
      'kube-proxy',
    ]);
  });

  it('refuses before any host when the store has no CA, and warns of a CA that expires before the new leaves', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'ks-renew-'));
    await expect(checkCas(empty, inventory())).rejects.toBeInstanceOf(InputError);
    const dir = mkdtempSync(join(tmpdir(), 'ks-renew-'));
    const short = inventory(100);
    await ensurePki(dir, cas(short), { persist: true });
    const warnings = await checkCas(dir, short);
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatch(/^CA ca expires on .*, before the new leaves would \(365 days\)/);
    expect(await checkCas(dir, short, new Date(Date.now() - 300 * 86_400_000))).toEqual([]);
    await expect(checkCas(dir, short, new Date(Date.now() + 200 * 86_400_000))).rejects.toThrow(
      /CA ca expired on .*nor can a rotation with an overlap/,
    );
  });
});
