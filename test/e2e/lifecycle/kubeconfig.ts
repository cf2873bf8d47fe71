import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { parse } from 'yaml';
import { kubesmith, LAB_BUNDLE, type labShell } from '../harness.js';

const USER = 'jane';
const NAMESPACE = 'dev';
const DAY_MS = 86_400_000;

/**
 * `kubesmith kubeconfig` on a set-up lab cluster, checked with kubectl from the lab bundle on the
 * deploy machine: the admin kubeconfig, a `view` user in namespace dev (lists pods there, cannot
 * create them, forbidden elsewhere), the same user re-issued as `edit`, --list, and --revoke.
 * Declares its tests in the caller's describe; the cluster must be set up (setup all) by then.
 */
export function kubeconfigUserTests(lab: string, shell: ReturnType<typeof labShell>): void {
  const work = mkdtempSync(join(tmpdir(), 'ks-kubeconfig-e2e-'));
  const adminFile = join(work, 'admin.kubeconfig');
  const userFile = join(shell.clusterDir, 'users', `${USER}.kubeconfig`);
  const kubectl = (kubeconfig: string, ...args: string[]) =>
    execa(
      join(LAB_BUNDLE, 'bin', 'kubectl'),
      ['--kubeconfig', kubeconfig, '--request-timeout=20s', ...args],
      {
        reject: false,
        all: true,
      },
    );
  const canI = async (kubeconfig: string, ...args: string[]) =>
    (await kubectl(kubeconfig, 'auth', 'can-i', ...args)).stdout.trim();
  const bindingsOf = async (user: string) =>
    (
      await kubectl(
        adminFile,
        'get',
        'rolebindings,clusterrolebindings',
        '-A',
        '-l',
        `kubesmith.io/user=${user}`,
        '-o',
        'name',
      )
    ).stdout;

  it('kubeconfig refuses bad input before any host is touched (exit 2, the option named)', async () => {
    for (const [args, message] of [
      [['--user', 'Jane'], /--user: 'Jane' is not a user name/],
      [
        ['--user', USER, '--role', 'cluster-admin'],
        /--role: 'cluster-admin' is not one of admin, edit, view/,
      ],
      [['--user', USER, '--days', '400'], /--days: '400' must be a whole number of days from 1 to 365/],
      [['--user', USER, '--group', 'system:masters'], /--group: 'system:masters'/],
      [['--namespace', NAMESPACE], /--namespace: only with --user/],
    ] as const) {
      const run = await kubesmith('kubeconfig', lab, ...args);
      expect(run.exitCode, run.all).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.all).not.toMatch(new RegExp(`connect|${lab}-\\d`));
    }
  });

  it('kubeconfig without a user prints the admin kubeconfig, which reaches the API from here', async () => {
    const run = await kubesmith('kubeconfig', lab);
    expect(run.exitCode, run.all).toBe(0);
    writeFileSync(adminFile, run.stdout, { mode: 0o600 });
    // execa drops the final newline.
    expect(readFileSync(join(shell.clusterDir, 'kubeconfig'), 'utf8')).toBe(`${run.stdout}\n`);
    expect(run.stderr).toMatch(/admin kubeconfig .* for https:\/\/\d+\.\d+\.\d+\.\d+:6443/);
    const nodes = await kubectl(adminFile, 'get', 'nodes', '-o', 'name');
    expect(nodes.exitCode, nodes.all).toBe(0);
    expect(nodes.stdout).toMatch(/^node\//);
  });

  it('kubeconfig --user refuses a namespace that does not exist without --create-namespace, changing nothing', async () => {
    await kubectl(adminFile, 'delete', 'namespace', NAMESPACE, '--ignore-not-found', '--wait=true');
    const run = await kubesmith('kubeconfig', lab, '--user', USER, '--namespace', NAMESPACE);
    expect(run.exitCode, run.all).toBe(2);
    expect(run.stderr).toMatch(/namespace dev does not exist; add --create-namespace/);
    expect(await bindingsOf(USER)).toBe('');
    expect(() => statSync(userFile)).toThrow(/ENOENT/);
  });

  it('a view user in dev can list pods there, cannot create them, and is forbidden elsewhere (its own kubeconfig)', async () => {
    const run = await kubesmith(
      'kubeconfig',
      lab,
      '--user',
      USER,
      '--group',
      'testers',
      '--namespace',
      NAMESPACE,
      '--create-namespace',
      '--role',
      'view',
      '--days',
      '7',
    );
    expect(run.exitCode, run.all).toBe(0);
    expect(run.stdout.trim()).toBe(userFile);
    expect(run.stderr).toMatch(/created namespace dev/);
    expect(statSync(userFile).mode & 0o777).toBe(0o600);
    expect(run.all).not.toMatch(/PRIVATE KEY|client-key-data/);

    const config = parse(readFileSync(userFile, 'utf8'));
    const cert = new X509Certificate(Buffer.from(config.users[0].user['client-certificate-data'], 'base64'));
    expect(cert.subject.split('\n').sort()).toEqual(['CN=jane', 'O=testers']);
    const days = (Date.parse(cert.validTo) - Date.now()) / DAY_MS;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThan(7.1);

    expect(await canI(userFile, 'list', 'pods', '-n', NAMESPACE)).toBe('yes');
    expect(await canI(userFile, 'create', 'pods', '-n', NAMESPACE)).toBe('no');
    expect(await canI(userFile, 'list', 'pods', '-n', 'default')).toBe('no');
    expect(await canI(userFile, 'list', 'pods', '--all-namespaces')).toBe('no');

    const list = await kubectl(userFile, 'get', 'pods', '-n', NAMESPACE);
    expect(list.exitCode, list.all).toBe(0);
    const create = await kubectl(userFile, 'create', 'configmap', 'probe', '-n', NAMESPACE);
    expect(create.exitCode).not.toBe(0);
    expect(create.stderr).toMatch(/forbidden: User "jane" cannot create resource "configmaps"/);
    const pod = await kubectl(
      userFile,
      'run',
      'probe',
      '--image=registry.k8s.io/pause:3.10',
      '-n',
      NAMESPACE,
    );
    expect(pod.exitCode).not.toBe(0);
    expect(pod.stderr).toMatch(/forbidden: User "jane" cannot create resource "pods"/);
    const elsewhere = await kubectl(userFile, 'get', 'pods', '-n', 'kube-system');
    expect(elsewhere.exitCode).not.toBe(0);
    expect(elsewhere.stderr).toMatch(
      /forbidden: User "jane" cannot list resource "pods" .* in the namespace "kube-system"/,
    );
  });

  it('the same user issued again as edit: the binding is replaced (a roleRef cannot change) and it can create there', async () => {
    const run = await kubesmith(
      'kubeconfig',
      lab,
      '--user',
      USER,
      '--namespace',
      NAMESPACE,
      '--role',
      'edit',
    );
    expect(run.exitCode, run.all).toBe(0);
    expect(run.stderr).toMatch(/jane now holds: edit in dev/);
    expect(run.stderr).toMatch(/replaces the certificate issued earlier, which stays valid until/);
    expect(await canI(userFile, 'create', 'pods', '-n', NAMESPACE)).toBe('yes');
    expect(await canI(userFile, 'list', 'pods', '-n', 'default')).toBe('no');
  });

  it('kubeconfig --list shows the user, its access and its certificate expiry', async () => {
    const run = await kubesmith('kubeconfig', lab, '--list');
    expect(run.exitCode, run.all).toBe(0);
    expect(run.stdout).toMatch(/^USER +GROUPS +ACCESS +CERTIFICATE +KUBECONFIG$/m);
    expect(run.stdout).toMatch(
      /^jane +- +edit in dev +until \d{4}-\d\d-\d\d \((29|30) days left\) +users\/jane\.kubeconfig$/m,
    );
    const json = await kubesmith('kubeconfig', lab, '--list', '--output', 'json');
    expect(json.exitCode, json.all).toBe(0);
    const result = json.stdout
      .split('\n')
      .map((line) => JSON.parse(line))
      .find((event) => event.type === 'result');
    expect(result.users.find((u: { user: string }) => u.user === USER)).toMatchObject({
      groups: [],
      bindings: [{ kind: 'RoleBinding', namespace: NAMESPACE, role: 'edit' }],
      hasKubeconfig: true,
    });
  });

  it('kubeconfig --revoke shows its plan, asks (refused without a terminal), then with --yes the user is forbidden', async () => {
    const kept = join(work, 'jane-before-revoke.kubeconfig');
    copyFileSync(userFile, kept);
    const asked = await kubesmith('kubeconfig', lab, '--revoke', USER);
    expect(asked.exitCode, asked.all).toBe(2);
    expect(asked.stderr).toMatch(/remove RoleBinding kubesmith:user:jane \(edit in namespace dev\)/);
    expect(asked.stderr).toMatch(/no terminal to confirm on: re-run with --yes/);
    expect(await canI(kept, 'list', 'pods', '-n', NAMESPACE)).toBe('yes');

    const run = await kubesmith('kubeconfig', lab, '--revoke', USER, '--yes');
    expect(run.exitCode, run.all).toBe(0);
    expect(run.stderr).toMatch(/jane: removed RoleBinding in namespace dev, and users\/jane\.kubeconfig/);
    expect(run.stderr).toMatch(
      /Kubernetes cannot revoke a client certificate: jane's stays valid for authentication until/,
    );
    expect(await bindingsOf(USER)).toBe('');
    expect(() => statSync(userFile)).toThrow(/ENOENT/);
    // Still authenticates (it cannot be revoked), but is allowed nothing.
    const whoami = await kubectl(kept, 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}');
    expect(whoami.stdout).toBe('jane');
    expect(await canI(kept, 'list', 'pods', '-n', NAMESPACE)).toBe('no');
    const list = await kubectl(kept, 'get', 'pods', '-n', NAMESPACE);
    expect(list.exitCode).not.toBe(0);
    expect(list.stderr).toMatch(/forbidden: User "jane" cannot list resource "pods"/);

    const listed = await kubesmith('kubeconfig', lab, '--list');
    expect(listed.stdout).toMatch(/^jane +- +none \(revoked\) +until .* +removed$/m);
    await kubectl(adminFile, 'delete', 'namespace', NAMESPACE, '--wait=false');
  });
}
