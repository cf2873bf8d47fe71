import { describe, expect, it } from 'vitest';
import { podListSchema, podsNotReady } from '../../../src/certs/node-pods.js';

const pod = (name: string, phase: string, ready?: string, deleting = false) => ({
  metadata: {
    name,
    namespace: 'kube-system',
    ...(deleting ? { deletionTimestamp: '2026-11-29T00:00:00Z' } : {}),
  },
  status: { phase, conditions: ready ? [{ type: 'Ready', status: ready }] : [] },
});

describe('pods on a restarted node', () => {
  it('waits for running and starting pods that are not Ready, not for finished or deleted ones', () => {
    const list = podListSchema.parse({
      items: [
        pod('coredns-a', 'Running', 'False'),
        pod('flannel-x', 'Running', 'True'),
        pod('job-done', 'Succeeded', 'False'),
        pod('new', 'Pending'),
        pod('going', 'Running', 'False', true),
        { metadata: { name: 'bare' }, status: { phase: 'Running' } },
      ],
    });
    expect(podsNotReady(list.items)).toEqual(['default/bare', 'kube-system/coredns-a', 'kube-system/new']);
  });
});
