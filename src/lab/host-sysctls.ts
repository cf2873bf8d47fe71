import { readFile, writeFile } from 'node:fs/promises';

/**
 * Kernel settings kubelet checks at start and writes when they differ. They are global
 * (not per namespace), and /proc/sys is read-only in a lab machine, so the lab sets them
 * on this machine beforehand, as a VM running kubelet would have them set by kubelet.
 */
export const KUBELET_KERNEL_SYSCTLS: Record<string, string> = {
  'vm/overcommit_memory': '1',
  'vm/panic_on_oom': '0',
  'kernel/panic': '10',
  'kernel/panic_on_oops': '1',
  'kernel/keys/root_maxkeys': '1000000',
  'kernel/keys/root_maxbytes': '25000000',
};

/**
 * Limits every lab machine draws on together (they share this kernel and the root user): each
 * kubelet and containerd takes inotify instances, and 128 (the default) runs out at about
 * eight machines, when kubelets die with "inotify_init: too many open files". Raised, never lowered.
 */
export const LAB_SYSCTL_FLOORS: Record<string, number> = {
  'fs/inotify/max_user_instances': 1024,
  'fs/inotify/max_user_watches': 524288,
};

export async function ensureKubeletSysctls(say: (line: string) => void): Promise<void> {
  const changed: string[] = [];
  for (const [key, value] of Object.entries(KUBELET_KERNEL_SYSCTLS)) {
    const file = `/proc/sys/${key}`;
    if ((await readFile(file, 'utf8')).trim() === value) continue;
    await writeFile(file, value);
    changed.push(`${key.replaceAll('/', '.')}=${value}`);
  }
  for (const [key, floor] of Object.entries(LAB_SYSCTL_FLOORS)) {
    const file = `/proc/sys/${key}`;
    if (Number((await readFile(file, 'utf8')).trim()) >= floor) continue;
    await writeFile(file, String(floor));
    changed.push(`${key.replaceAll('/', '.')}=${floor}`);
  }
  if (changed.length) say(`set on this machine for kubelet in the lab machines: ${changed.join(', ')}`);
}
