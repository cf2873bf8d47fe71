import { expect, it } from 'vitest';
import { kubesmith, type labShell } from '../harness.js';

/**
 * restore on a running Kubernetes cluster: the apiservers are stopped around it and started
 * again, and the API answers with the objects of the backup (one made after it is gone, one
 * deleted after it is back).
 */
export function restoreWithApiserversTests(
  lab: string,
  shell: ReturnType<typeof labShell>,
  masters: number[],
): void {
  const kubectl = (args: string) => shell.run(0, `kubectl --kubeconfig /etc/kubernetes/admin.conf ${args}`);

  it('restore with the apiservers running: stopped and started around it, the API answers with the restored objects', async () => {
    await kubectl('create configmap before-backup --from-literal=when=before');
    const backup = await kubesmith('backup', lab, '--note', 'before the restore test');
    expect(backup.exitCode, backup.all).toBe(0);
    await kubectl('create configmap after-backup --from-literal=when=after');
    await kubectl('delete configmap before-backup');
    const restore = await kubesmith('restore', lab, 'latest', '--yes');
    expect(restore.exitCode, restore.all).toBe(0);
    expect(restore.all).toMatch(/kube-apiserver started again on/);
    for (const i of masters)
      expect(await shell.run(i, 'systemctl is-active kube-apiserver'), `master ${i}`).toBe('active');
    let names = '';
    for (let tries = 0; tries < 30; tries++) {
      names = await kubectl('get configmap -o name').catch(() => '');
      if (names.includes('before-backup')) break;
      await new Promise((r) => setTimeout(r, 2000));
    }
    expect(names).toContain('configmap/before-backup');
    expect(names).not.toContain('configmap/after-backup');
    const verify = await kubesmith('verify', lab);
    expect(verify.exitCode, verify.all).toBe(0);
  });
}
