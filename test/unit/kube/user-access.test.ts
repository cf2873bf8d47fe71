import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/kube/types.js';
import {
  needsReplacing,
  readUserBindings,
  USER_LABEL,
  userBinding,
  userNamespace,
  userSelector,
} from '../../../src/kube/user-access.js';

describe("a user's binding", () => {
  it('is a RoleBinding in the namespace, labelled with the user, naming the ClusterRole', () => {
    expect(userBinding({ user: 'alice', role: 'view', namespace: 'dev' })).toEqual({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: {
        name: 'kubesmith:user:alice',
        namespace: 'dev',
        labels: { 'app.kubernetes.io/managed-by': 'kubesmith', 'kubesmith.io/user': 'alice' },
      },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' }],
    });
  });

  it('is a ClusterRoleBinding without a namespace', () => {
    const binding = userBinding({ user: 'bob', role: 'edit' });
    expect(binding.kind).toBe('ClusterRoleBinding');
    expect(binding.metadata.namespace).toBeUndefined();
  });

  it('is replaced when it names another role (a roleRef cannot be changed), kept otherwise', () => {
    const existing = userBinding({ user: 'alice', role: 'view', namespace: 'dev' });
    expect(needsReplacing(existing, { user: 'alice', role: 'edit', namespace: 'dev' })).toBe(true);
    expect(needsReplacing(existing, { user: 'alice', role: 'view', namespace: 'dev' })).toBe(false);
    expect(needsReplacing(undefined, { user: 'alice', role: 'view' })).toBe(false);
    expect(needsReplacing({ ...existing, roleRef: 'garbage' }, { user: 'alice', role: 'view' })).toBe(true);
  });

  it('and a namespace made for a user carry the same label, which the selector finds', () => {
    expect(userNamespace('dev', 'alice').metadata.labels?.[USER_LABEL]).toBe('alice');
    expect(userSelector('alice')).toBe('kubesmith.io/user=alice');
    expect(userSelector()).toBe('kubesmith.io/user');
  });
});

describe('bindings read from the API', () => {
  // As a list answer carries them: apiVersion and kind set from the request, the rest as served.
  const served = (object: KubeObject): KubeObject => ({
    ...object,
    metadata: { ...object.metadata, uid: 'u', resourceVersion: '1', managedFields: [] },
  });

  it('are read as user, kind, scope and role, sorted by user then namespace', () => {
    const objects = [
      served(userBinding({ user: 'bob', role: 'edit', namespace: 'prod' })),
      served(userBinding({ user: 'alice', role: 'view', namespace: 'dev' })),
      served(userBinding({ user: 'alice', role: 'admin' })),
    ];
    expect(readUserBindings(objects)).toEqual([
      { user: 'alice', kind: 'ClusterRoleBinding', name: 'kubesmith:user:alice', role: 'admin' },
      { user: 'alice', kind: 'RoleBinding', name: 'kubesmith:user:alice', namespace: 'dev', role: 'view' },
      { user: 'bob', kind: 'RoleBinding', name: 'kubesmith:user:bob', namespace: 'prod', role: 'edit' },
    ]);
  });

  it('leave out what is not a labelled binding', () => {
    const unlabelled = userBinding({ user: 'carol', role: 'view' });
    unlabelled.metadata.labels = {};
    const notABinding = userNamespace('dev', 'carol');
    expect(readUserBindings([unlabelled, notABinding])).toEqual([]);
  });
});
