import { describe, expect, it } from 'vitest';
import { caRotationPlan, formatCaPlan } from '../../../src/certs/ca-plan.js';
import { inventorySchema } from '../../../src/inventory/schema.js';

const inventory = inventorySchema.parse({
  cluster: { name: 'c' },
  hosts: [
    { name: 'm1', address: '10.0.0.1', roles: ['etcd', 'master'] },
    { name: 'e2', address: '10.0.0.2', roles: ['etcd'] },
    { name: 'n1', address: '10.0.0.3', roles: ['node'] },
  ],
});
const turnsOf = (plan: ReturnType<typeof caRotationPlan>, phase: string, host: string) =>
  plan.phases
    .find((p) => p.phase === phase)!
    .rollout.flatMap((part) => part.turns.filter((t) => t.host === host).map((t) => [part.part, t.files]));

describe('certs renew --ca plan', () => {
  it('three phases for a new rotation: trust phases touch CA files and kubeconfigs only, new-signing every certificate', () => {
    const plan = caRotationPlan(inventory, undefined, []);
    expect(plan.resumes).toBeUndefined();
    expect(plan.phases.map((p) => p.phase)).toEqual(['trust-both', 'new-signing', 'drop-old']);
    expect(turnsOf(plan, 'trust-both', 'n1')).toEqual([
      [
        'kube-node',
        ['/etc/kubernetes/pki/ca.crt', '/etc/kubernetes/kubelet.conf', '/etc/kubernetes/kube-proxy.conf'],
      ],
    ]);
    expect(turnsOf(plan, 'trust-both', 'e2')).toEqual([['etcd', ['/etc/etcd/pki/ca.crt']]]);
    const signing = turnsOf(plan, 'new-signing', 'm1').flatMap(([, files]) => files as string[]);
    expect(signing).toContain('/etc/kubernetes/pki/apiserver.crt');
    expect(signing).toContain('/var/lib/kubelet/pki/kubelet.crt');
    expect(turnsOf(plan, 'drop-old', 'm1')).toEqual(turnsOf(plan, 'trust-both', 'm1'));
    expect(plan.phases[0]!.after).toMatch(/Deployment, DaemonSet and StatefulSet .* restarted/);
    expect(plan.leaves).not.toContain('ca');
  });

  it('resumes from the recorded phase, and names the user kubeconfigs the rotation ends', () => {
    const state = { phase: 'new-signing' as const, startedAt: '2026-12-07T10:00:00.000Z', cas: ['ca'] };
    const plan = caRotationPlan(inventory, state, ['alice']);
    expect(plan.phases.map((p) => p.phase)).toEqual(['new-signing', 'drop-old']);
    const text = formatCaPlan('c', plan);
    expect(text).toMatch(/resumes the rotation started 2026-12-07T10:00:00.000Z, at phase new-signing/);
    expect(text).toMatch(/phase new-signing \(1 of 2\)/);
    expect(text).toMatch(
      /user kubeconfigs issued before \(alice\) trust only the old CA: they stop working in phase 2/,
    );
    expect(text).toMatch(/service-account tokens keep working/);
    expect(text).not.toContain('PRIVATE KEY');
  });
});
