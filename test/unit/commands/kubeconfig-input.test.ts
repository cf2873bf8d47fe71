import { describe, expect, it } from 'vitest';
import { kubeconfigAction } from '../../../src/commands/kubeconfig-input.js';
import { InputError } from '../../../src/errors.js';

const refused = (options: Parameters<typeof kubeconfigAction>[0]) => {
  try {
    kubeconfigAction(options);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(options)}`);
};

describe('kubeconfig options', () => {
  it('without a user asks for the admin kubeconfig', () => {
    expect(kubeconfigAction({})).toEqual({ kind: 'admin' });
  });

  it('grants view for 30 days by default, cluster-wide', () => {
    expect(kubeconfigAction({ user: 'alice' })).toEqual({
      kind: 'grant',
      user: 'alice',
      createNamespace: false,
      role: 'view',
      days: 30,
    });
  });

  it('takes every grant option, checked', () => {
    expect(
      kubeconfigAction({
        user: 'bob.smith',
        group: 'team:dev',
        namespace: 'dev',
        createNamespace: true,
        role: 'edit',
        days: '7',
      }),
    ).toEqual({
      kind: 'grant',
      user: 'bob.smith',
      group: 'team:dev',
      namespace: 'dev',
      createNamespace: true,
      role: 'edit',
      days: 7,
    });
  });

  it('refuses user names that cannot be a CN, a label value and a file name, naming the option', () => {
    for (const user of ['Alice', 'a/b', '../x', 'a@example.com', 'system:admin', '-a', `a${'x'.repeat(63)}`])
      expect(refused({ user })).toMatch(/^--user: /);
    expect(refused({ revoke: 'x y' })).toMatch(/^--revoke: /);
  });

  it("refuses the cluster's own identities and privileged groups", () => {
    expect(refused({ user: 'kubernetes-admin' })).toMatch(/identity of the cluster/);
    expect(refused({ user: 'a', group: 'system:masters' })).toMatch(/^--group: .*system:masters/);
    expect(refused({ user: 'a', group: 'kubeadm:cluster-admins' })).toMatch(/^--group: /);
    expect(refused({ user: 'a', group: 'dev team' })).toMatch(/^--group: /);
  });

  it('refuses a bad namespace, role or lifetime with the fix', () => {
    expect(refused({ user: 'a', namespace: 'Dev' })).toMatch(/^--namespace: 'Dev' is not a namespace name/);
    expect(refused({ user: 'a', role: 'cluster-admin' })).toBe(
      "--role: 'cluster-admin' is not one of admin, edit, view",
    );
    for (const days of ['0', '366', '1.5', 'ten', '-3', ''])
      expect(refused({ user: 'a', days })).toMatch(/^--days: .* from 1 to 365/);
    expect(kubeconfigAction({ user: 'a', days: '365' })).toMatchObject({ days: 365 });
  });

  it('refuses options that do not go together', () => {
    expect(refused({ namespace: 'dev', role: 'edit' })).toBe(
      '--namespace, --role: only with --user NAME (the user to issue)',
    );
    expect(refused({ user: 'a', createNamespace: true })).toMatch(
      /^--create-namespace: only with --namespace/,
    );
    expect(refused({ user: 'a', list: true })).toMatch(/^--user and --list: give one/);
    expect(refused({ list: true, revoke: 'a' })).toMatch(/^--list and --revoke/);
    expect(refused({ yes: true })).toMatch(/^--yes: only with --revoke/);
  });

  it('lists, and revokes asking unless --yes', () => {
    expect(kubeconfigAction({ list: true })).toEqual({ kind: 'list' });
    expect(kubeconfigAction({ revoke: 'alice' })).toEqual({ kind: 'revoke', user: 'alice', yes: false });
    expect(kubeconfigAction({ revoke: 'alice', yes: true })).toMatchObject({ yes: true });
  });
});
