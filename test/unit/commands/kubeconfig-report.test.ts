import { describe, expect, it } from 'vitest';
import {
  formatGrant,
  formatRevokePlan,
  formatRevokeResult,
  formatUserList,
  issuedUsers,
  validity,
} from '../../../src/commands/kubeconfig-report.js';
import type { UserBinding } from '../../../src/kube/user-access.js';

const NOW = Date.parse('2026-11-29T12:00:00Z');
const inDays = (days: number) => new Date(NOW + days * 86_400_000);
const viewInDev: UserBinding = {
  user: 'alice',
  kind: 'RoleBinding',
  name: 'kubesmith:user:alice',
  namespace: 'dev',
  role: 'view',
};

describe('kubeconfig --list', () => {
  it('joins the API bindings with the certificates recorded here', () => {
    const users = issuedUsers(
      {
        bindings: [viewInDev, { ...viewInDev, namespace: 'qa', role: 'edit' }],
        namespaces: ['dev'],
      },
      [
        { user: 'old', groups: [], notAfter: inDays(-2), hasKubeconfig: false },
        { user: 'alice', groups: ['team'], notAfter: inDays(30), hasKubeconfig: true },
      ],
    );
    expect(users[0]).toEqual({
      user: 'alice',
      groups: ['team'],
      bindings: [viewInDev, { ...viewInDev, namespace: 'qa', role: 'edit' }],
      certificateExpires: inDays(30),
      hasKubeconfig: true,
    });
    const text = formatUserList(users, NOW);
    expect(text.split('\n')).toEqual([
      'USER   GROUPS  ACCESS                   CERTIFICATE                      KUBECONFIG',
      'alice  team    view in dev, edit in qa  until 2026-12-29 (30 days left)  users/alice.kubeconfig',
      'old    -       none (revoked)           expired 2026-11-27               removed',
    ]);
  });

  it('names a user bound from another machine, and says how to begin when there is none', () => {
    const zed = issuedUsers({ bindings: [{ ...viewInDev, user: 'zed' }], namespaces: [] }, []);
    const text = formatUserList(zed, NOW);
    expect(text).toMatch(/zed +- +view in dev +not issued from this machine +-/);
    expect(formatUserList([], NOW)).toMatch(/^no users issued by kubesmith/);
  });
});

describe('kubeconfig --revoke', () => {
  const record = { user: 'alice', groups: [], notAfter: inDays(30), hasKubeconfig: true };

  it('plans every binding, the key here, the namespace it keeps, and says the certificate stays valid', () => {
    const plan = formatRevokePlan('alice', { bindings: [viewInDev], namespaces: ['dev'] }, record);
    expect(plan.slice(0, 4)).toEqual([
      'revoke alice:',
      '  remove RoleBinding kubesmith:user:alice (view in namespace dev)',
      '  remove users/alice.kubeconfig on this machine (the key)',
      '  keep namespace dev (made for alice; it may hold workloads: delete it yourself if it must go)',
    ]);
    expect(plan[4]).toMatch(
      /^Kubernetes cannot revoke a client certificate: alice's stays valid for authentication until \d{4}-\d\d-\d\d/,
    );
  });

  it('reports what went', () => {
    const lines = formatRevokeResult(
      'alice',
      { removed: [viewInDev], kubeconfigRemoved: true, namespacesLeft: [] },
      record,
    );
    expect(lines[0]).toBe('alice: removed RoleBinding in namespace dev, and users/alice.kubeconfig');
    expect(lines[1]).toMatch(/cannot revoke a client certificate/);
  });
});

describe('kubeconfig --user', () => {
  it('says what the user holds, until when, where the file is, and what the previous certificate still does', () => {
    const lines = formatGrant(
      { user: 'alice', namespace: 'dev' },
      {
        kubeconfigFile: '/h/clusters/c/users/alice.kubeconfig',
        notAfter: inDays(30),
        namespaceCreated: true,
        binding: 'created',
        replaced: { user: 'alice', groups: [], notAfter: inDays(3) },
        bindings: [viewInDev],
      },
      NOW,
    );
    expect(lines).toEqual([
      'created namespace dev (labelled for alice)',
      'alice now holds: view in dev',
      'certificate valid until 2026-12-29 (30 days left); kubeconfig (0600): /h/clusters/c/users/alice.kubeconfig',
      'it replaces the certificate issued earlier, which stays valid until 2026-12-02 (3 days left) (a client certificate cannot be revoked)',
      'use it: kubectl --kubeconfig /h/clusters/c/users/alice.kubeconfig get pods -n dev',
    ]);
    expect(validity(inDays(0), NOW)).toBe('expired 2026-11-29');
  });
});
