import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPlaybook } from '../../../src/engine/playbook.js';
import { InputError } from '../../../src/errors.js';
import { parseInventory } from '../../../src/inventory/load.js';
import type { Inventory } from '../../../src/inventory/schema.js';
import { hostPaths, nodePaths } from '../../../src/nodes/footprint.js';
import { stopUnitsScript, unitsStoppedCheck } from '../../../src/nodes/retire.js';
import { checkDestroyConfirmation, destroyPlan, startPlan, stopPlan } from '../../../src/power/plan.js';

const HOSTS = `hosts:
  - { name: m1, address: 10.0.0.1, roles: [etcd, master] }
  - { name: e2, address: 10.0.0.2, roles: [etcd] }
  - { name: e3, address: 10.0.0.4, roles: [etcd] }
  - { name: w1, address: 10.0.0.3, roles: [node] }
`;

describe('start, stop, destroy', () => {
  let dir: string;
  let inv: Inventory;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ks-power-'));
    writeFileSync(join(dir, 'id_ed25519'), 'a key', { mode: 0o600 });
    const text = `cluster: { name: pw }\nssh: { identityFile: ${join(dir, 'id_ed25519')} }\n${HOSTS}`;
    inv = (await parseInventory(text, join(dir, 'inventory.yaml'))).inventory;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('destroy is refused without the cluster name, or with another, as an InputError', () => {
    expect(() => checkDestroyConfirmation(inv, undefined)).toThrow(InputError);
    expect(() => checkDestroyConfirmation(inv, undefined)).toThrow(/--yes-really-destroy pw/);
    expect(() => checkDestroyConfirmation(inv, 'pw2')).toThrow(/'pw2' does not name this cluster \(pw\)/);
    expect(() => checkDestroyConfirmation(inv, 'pw')).not.toThrow();
  });

  it('plans name the hosts of each phase, in dependency order', () => {
    expect(stopPlan(inv, true).split('\n').slice(1, 5)).toEqual([
      "  1. etcd snapshot from a healthy member to the deploy machine's backups/",
      '  2. kubelet, kube-proxy stopped on m1, w1; pods keep running under containerd',
      '  3. kube-scheduler, kube-controller-manager, kube-apiserver stopped on m1',
      '  4. etcd stopped on m1, e2, e3',
    ]);
    expect(startPlan(inv)).toContain('1. etcd started on m1, e2, e3 at once');
    const plan = destroyPlan(inv, { purge: false, snapshot: true, clusterDir: '/k/clusters/pw', stamp: 'S' });
    expect(plan).toContain('kept aside at /var/lib/etcd/kubesmith-removed-S');
    expect(plan).toContain('kept on this machine: /k/clusters/pw/');
    expect(destroyPlan(inv, { purge: true, snapshot: true, clusterDir: '/k', stamp: 'S' })).toContain(
      'DELETED (--purge)',
    );
  });

  it("destroy's paths: a worker's, plus the control plane's and etcd's; the data dir only with purge", () => {
    const kept = hostPaths(inv, false);
    for (const p of nodePaths(inv)) expect(kept).toContain(p);
    for (const p of [
      '/etc/systemd/system/kube-apiserver.service',
      '/etc/systemd/system/kube-scheduler.service',
      '/etc/systemd/system/etcd.service',
      '/etc/etcd',
      '/var/log/kubernetes',
    ])
      expect(kept).toContain(p);
    expect(kept).not.toContain('/var/lib/etcd');
    expect(hostPaths(inv, true)).toContain('/var/lib/etcd');
  });

  it('the playbooks run the phases in dependency order', async () => {
    expect((await loadPlaybook('stop')).steps.map((s) => s.step)).toEqual([
      'etcd-snapshot',
      'node-stop',
      'control-plane-stop',
      'etcd-stop',
    ]);
    expect((await loadPlaybook('start')).steps.map((s) => s.step)).toEqual([
      'etcd-start',
      'control-plane-start',
      'node-start',
      'nodes-ready',
      'cluster-refresh',
    ]);
    expect((await loadPlaybook('destroy')).steps.at(-1)).toEqual({ step: 'host-retire', hosts: 'all' });
  });

  it('the unit scripts, run by sh against a recording systemctl: existing units stopped in order, the check true once none is active or enabled', () => {
    const bin = join(dir, 'bin');
    execFileSync('mkdir', ['-p', bin]);
    const log = join(dir, 'calls');
    // a: active and enabled; b: not installed; c: installed, inactive, disabled.
    writeFileSync(
      join(bin, 'systemctl'),
      `#!/bin/sh\necho "$*" >> ${log}\ncase "$*" in\n  "cat b.service") exit 1;;\n  "is-active -q a"|"is-enabled -q a") exit 0;;\n  is-*) exit 1;;\nesac\nexit 0\n`,
    );
    chmodSync(join(bin, 'systemctl'), 0o755);
    const sh = (script: string) => {
      writeFileSync(log, '');
      try {
        execFileSync('sh', ['-c', script], { env: { PATH: `${bin}:/usr/bin:/bin` } });
        return 0;
      } catch (error) {
        return (error as { status: number }).status;
      }
    };
    expect(sh(stopUnitsScript(['a', 'b', 'c']))).toBe(0);
    expect(execFileSync('cat', [log], { encoding: 'utf8' }).trim().split('\n')).toEqual([
      'cat a.service',
      'disable --now a',
      'cat b.service',
      'cat c.service',
      'disable --now c',
    ]);
    expect(sh(unitsStoppedCheck(['c', 'a']))).toBe(1);
    expect(sh(unitsStoppedCheck(['b', 'c']))).toBe(0);
  });
});
