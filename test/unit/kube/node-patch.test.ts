import { describe, expect, it } from 'vitest';
import { nodePatch, OWNED_LABELS_ANNOTATION, OWNED_TAINTS_ANNOTATION } from '../../../src/kube/node-patch.js';
import { nodeSchema } from '../../../src/kube/schemas.js';

const node = (labels: Record<string, string>, taints: object[], owned?: string[], ownedLabels?: string[]) =>
  nodeSchema.parse({
    metadata: {
      name: 'w1',
      resourceVersion: '42',
      labels,
      annotations: {
        ...(owned ? { [OWNED_TAINTS_ANNOTATION]: JSON.stringify(owned) } : {}),
        ...(ownedLabels ? { [OWNED_LABELS_ANNOTATION]: JSON.stringify(ownedLabels) } : {}),
      },
    },
    spec: { taints },
  });

const notReady = {
  key: 'node.kubernetes.io/not-ready',
  effect: 'NoSchedule',
  timeAdded: '2025-01-01T00:00:00Z',
};
const dedicated = { key: 'dedicated', value: 'infra', effect: 'NoSchedule' } as const;

describe('nodePatch', () => {
  it('sets labels that differ and removes those given as null, guarded by the resourceVersion read', () => {
    const patch = nodePatch(node({ keep: 'x', same: 'v', old: 'y' }, []), {
      labels: { same: 'v', fresh: 'z', old: null, absent: null },
    });
    expect(patch).toEqual({
      metadata: {
        resourceVersion: '42',
        labels: { fresh: 'z', old: null },
        annotations: { [OWNED_LABELS_ANNOTATION]: '["fresh","same"]' },
      },
    });
  });

  it('removes a label it set before and no longer asks for; leaves labels others set', () => {
    const current = node({ disktype: 'ssd', zone: 'a', theirs: 't' }, [], undefined, ['disktype', 'zone']);
    expect(nodePatch(current, { labels: { zone: 'a' } })).toEqual({
      metadata: {
        resourceVersion: '42',
        labels: { disktype: null },
        annotations: { [OWNED_LABELS_ANNOTATION]: '["zone"]' },
      },
    });
  });

  it('adds its taints after the others and records which taints are its own', () => {
    expect(nodePatch(node({}, [notReady]), { taints: [dedicated] })).toEqual({
      metadata: {
        resourceVersion: '42',
        annotations: { [OWNED_TAINTS_ANNOTATION]: '["dedicated:NoSchedule"]' },
      },
      spec: { taints: [notReady, dedicated] },
    });
  });

  it('removes only the taints it set before and no longer wants', () => {
    const theirs = { key: 'theirs', effect: 'NoExecute' };
    const patch = nodePatch(node({}, [notReady, dedicated, theirs], ['dedicated:NoSchedule']), {
      taints: [],
    });
    expect(patch).toEqual({
      metadata: { resourceVersion: '42', annotations: { [OWNED_TAINTS_ANNOTATION]: '[]' } },
      spec: { taints: [notReady, theirs] },
    });
  });

  it('replaces its own taint whose value changed, and takes over one that someone else set the same', () => {
    const patch = nodePatch(node({}, [{ ...dedicated, value: 'old' }], ['dedicated:NoSchedule']), {
      taints: [dedicated],
    });
    expect(patch?.spec).toEqual({ taints: [dedicated] });
    expect(nodePatch(node({}, [dedicated]), { taints: [dedicated] })).toEqual({
      metadata: {
        resourceVersion: '42',
        annotations: { [OWNED_TAINTS_ANNOTATION]: '["dedicated:NoSchedule"]' },
      },
    });
  });

  it('is undefined when the node already has everything asked', () => {
    const current = node({ a: '1' }, [notReady, dedicated], ['dedicated:NoSchedule'], ['a']);
    expect(nodePatch(current, { labels: { a: '1', b: null }, taints: [dedicated] })).toBeUndefined();
    expect(nodePatch(current, {})).toBeUndefined();
  });
});
