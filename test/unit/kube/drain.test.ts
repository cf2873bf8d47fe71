import { describe, expect, it } from 'vitest';
import { drainPlan, podLabel } from '../../../src/kube/drain.js';

const pod = (name: string, extra: { owner?: string; phase?: string; mirror?: boolean } = {}) => ({
  metadata: {
    name,
    namespace: 'ns',
    ...(extra.mirror ? { annotations: { 'kubernetes.io/config.mirror': 'x' } } : {}),
    ...(extra.owner ? { ownerReferences: [{ kind: extra.owner, name: 'o', controller: true }] } : {}),
  },
  spec: { nodeName: 'w1' },
  status: { phase: extra.phase ?? 'Running' },
});

describe('drainPlan', () => {
  it('sorts pods as kubectl drain does', () => {
    const plan = drainPlan([
      pod('rs', { owner: 'ReplicaSet' }),
      pod('sts', { owner: 'StatefulSet' }),
      pod('ds', { owner: 'DaemonSet' }),
      pod('static', { mirror: true }),
      pod('bare'),
      pod('done', { phase: 'Succeeded' }),
    ]);
    expect(plan.evict.map((p) => p.name)).toEqual(['rs', 'sts', 'done']);
    expect(plan.stay.map((p) => p.name)).toEqual(['ds', 'static']);
    expect(plan.unmanaged.map(podLabel)).toEqual(['ns/bare (w1)']);
  });

  it('an owner that is not the controller does not make a pod managed', () => {
    const p = pod('owned');
    (p.metadata as Record<string, unknown>).ownerReferences = [{ kind: 'ReplicaSet', name: 'o' }];
    expect(drainPlan([p]).unmanaged).toHaveLength(1);
  });
});
