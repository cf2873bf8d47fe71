import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { isOurNspawn, type LabMachine } from './state.js';

export interface MachineDirs {
  dir: string;
  upper: string;
  work: string;
  root: string;
  console: string;
  /** Real-filesystem directories bound over the machine's overlay root (see boot()). */
  containerd: string;
  kubelet: string;
}

export function machineDirs(machinesDir: string, name: string): MachineDirs {
  const dir = join(machinesDir, name);
  return {
    dir,
    upper: join(dir, 'upper'),
    work: join(dir, 'work'),
    root: join(dir, 'root'),
    console: join(dir, 'console.log'),
    containerd: join(dir, 'var-lib-containerd'),
    kubelet: join(dir, 'var-lib-kubelet'),
  };
}

async function isMounted(path: string): Promise<boolean> {
  const mounts = await readFile('/proc/self/mounts', 'utf8');
  return mounts.split('\n').some((line) => line.split(' ')[1] === path);
}

export async function mountRoot(base: string, dirs: MachineDirs): Promise<void> {
  await mkdir(dirs.upper, { recursive: true });
  await mkdir(dirs.work, { recursive: true });
  await mkdir(dirs.root, { recursive: true });
  await mkdir(dirs.containerd, { recursive: true });
  await mkdir(dirs.kubelet, { recursive: true });
  if (await isMounted(dirs.root)) return;
  await execa('mount', [
    '-t',
    'overlay',
    'overlay',
    '-o',
    `lowerdir=${base},upperdir=${dirs.upper},workdir=${dirs.work}`,
    dirs.root,
  ]);
}

export async function unmountRoot(dirs: MachineDirs): Promise<void> {
  for (let attempt = 0; attempt < 10 && (await isMounted(dirs.root)); attempt++) {
    const result = await execa('umount', [dirs.root], { reject: false });
    if (result.exitCode !== 0) await sleep(300);
  }
  if (await isMounted(dirs.root)) await execa('umount', ['-l', dirs.root]);
}

/** Writes a machine's identity into its upper layer, once: host name, address, host key, machine-id, the lab key. */
export async function personalize(
  dirs: MachineDirs,
  machine: LabMachine,
  prefixLength: number,
  authorizedKey: string,
): Promise<void> {
  const r = dirs.root;
  const marker = join(r, 'etc', 'kubesmith-lab-machine');
  if (existsSync(marker)) return;
  await writeFile(join(r, 'etc', 'hostname'), `${machine.name}\n`);
  await writeFile(
    join(r, 'etc', 'hosts'),
    `127.0.0.1 localhost\n127.0.1.1 ${machine.name}\n::1 localhost ip6-localhost ip6-loopback\n`,
  );
  await mkdir(join(r, 'etc', 'systemd', 'network'), { recursive: true });
  // Sorts before the stock 80-container-host0.network, which would leave only a link-local address.
  // A default route on the link, without a gateway, as real servers have one: kube-proxy's DNAT of
  // service IPs happens after the routing decision, which fails with no route at all. Nothing
  // answers for outside addresses on the bridge, so no packet leaves the lab.
  await writeFile(
    join(r, 'etc', 'systemd', 'network', '10-host0.network'),
    `[Match]\nName=host0\n\n[Network]\nAddress=${machine.address}/${prefixLength}\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n\n[Route]\nDestination=0.0.0.0/0\nScope=link\n`,
  );
  await execa('ssh-keygen', [
    '-q',
    '-t',
    'ed25519',
    '-N',
    '',
    '-C',
    `root@${machine.name}`,
    '-f',
    join(r, 'etc', 'ssh', 'ssh_host_ed25519_key'),
  ]);
  await execa('systemd-machine-id-setup', [`--root=${r}`]);
  await mkdir(join(r, 'root', '.ssh'), { recursive: true, mode: 0o700 });
  await writeFile(join(r, 'root', '.ssh', 'authorized_keys'), authorizedKey, { mode: 0o600 });
  await chmod(join(r, 'root', '.ssh'), 0o700);
  await writeContainerHostUnits(r);
  // Names this root from inside: lets a container init that outlived its nspawn be found.
  await writeFile(marker, `${dirs.root}\n`);
}

/**
 * What a machine needs inside to run kubelet and runc that a VM would not:
 * - nspawn mounts the cgroup v1 controllers read-only (only without a user namespace does it
 *   give them at all); each machine sits in its own cgroups (boot()), so making them writable
 *   lets kubelet and runc create pod cgroups without touching another machine's;
 * - there is no /dev/kmsg in a container; kubelet's OOM watcher opens it (kind links the console).
 */
async function writeContainerHostUnits(root: string): Promise<void> {
  const units = join(root, 'etc', 'systemd', 'system');
  await mkdir(join(units, 'sysinit.target.wants'), { recursive: true });
  await writeFile(
    join(units, 'kubesmith-lab-cgroups.service'),
    [
      '[Unit]',
      'Description=kubesmith lab: writable cgroup controllers for kubelet and runc',
      'DefaultDependencies=no',
      'Before=sysinit.target',
      '',
      '[Service]',
      'Type=oneshot',
      'RemainAfterExit=yes',
      `ExecStart=/bin/sh -c 'for d in /sys/fs/cgroup/*/; do mount -o remount,bind,rw "$d"; done'`,
      '',
      '[Install]',
      'WantedBy=sysinit.target',
      '',
    ].join('\n'),
  );
  await symlink(
    '/etc/systemd/system/kubesmith-lab-cgroups.service',
    join(units, 'sysinit.target.wants', 'kubesmith-lab-cgroups.service'),
  ).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  await mkdir(join(root, 'etc', 'tmpfiles.d'), { recursive: true });
  await writeFile(
    join(root, 'etc', 'tmpfiles.d', 'kubesmith-lab-kmsg.conf'),
    'L /dev/kmsg - - - - /dev/console\n',
  );
}

export async function hostKeyLine(dirs: MachineDirs, address: string): Promise<string> {
  const [type, key] = (
    await readFile(join(dirs.root, 'etc', 'ssh', 'ssh_host_ed25519_key.pub'), 'utf8')
  ).split(' ');
  return `${address} ${type} ${key}`;
}

/**
 * Keeps systemd-nspawn running across reboots of the machine (nspawn exits 133 when the container
 * asks to reboot) and passes a TERM on to it, waiting for the orderly poweroff to finish.
 */
const SUPERVISOR = [
  // Its own cgroup in every hierarchy, below the current one: nspawn's cgroup namespace then
  // shows the machine only its own subtree, so kubelets on two machines never share /kubepods.
  'while IFS=: read -r _ controllers path; do',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion
  '  case "$controllers" in "") dir=/sys/fs/cgroup/unified ;; name=*) dir=/sys/fs/cgroup/${controllers#name=} ;; *) dir=/sys/fs/cgroup/$controllers ;; esac',
  '  [ -d "$dir" ] || continue',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion
  '  parent="$dir${path%/}"; own="$parent/$KUBESMITH_LAB_CGROUP"',
  '  mkdir -p "$own" || continue',
  '  for f in cpuset.cpus cpuset.mems; do [ -f "$own/$f" ] && [ -z "$(cat "$own/$f")" ] && cat "$parent/$f" > "$own/$f"; done',
  '  echo $$ > "$own/cgroup.procs"',
  'done < /proc/self/cgroup',
  'trap \'kill -TERM "$child" 2>/dev/null\' TERM INT',
  'while :; do',
  '  "$@" & child=$!',
  '  wait "$child"; status=$?',
  '  while kill -0 "$child" 2>/dev/null; do wait "$child"; status=$?; done',
  '  [ "$status" -eq 133 ] || exit "$status"',
  'done',
].join('\n');

export function labCgroupName(machine: string): string {
  return `kubesmith-lab-${machine}`;
}

/** Removes a stopped machine's cgroups (and what kubelet made inside them), deepest first. */
export async function removeMachineCgroups(machine: string): Promise<void> {
  await execa(
    'sh',
    [
      '-c',
      'find /sys/fs/cgroup -mindepth 2 -maxdepth 5 -type d -name "$1" -prune -print 2>/dev/null | while read -r own; do find "$own" -depth -type d -exec rmdir {} + 2>/dev/null; done; true',
      'sh',
      labCgroupName(machine),
    ],
    { reject: false },
  );
}

/** Boots the machine under systemd-nspawn (restarted on reboot), detached; returns the supervisor's pid. */
export function boot(dirs: MachineDirs, machine: LabMachine, bridge: string): number {
  const out = openSync(dirs.console, 'a');
  const child = spawn(
    'sh',
    [
      '-c',
      SUPERVISOR,
      'kubesmith-lab-machine',
      'systemd-nspawn',
      // --keep-unit and --register=no: the deploy machine's PID 1 may not be systemd.
      '--keep-unit',
      '--register=no',
      '--quiet',
      // runc needs the keyring (session keys) and bpf (device filters); nspawn filters both out.
      '--capability=all',
      '--system-call-filter=@keyring bpf',
      // containerd's overlayfs snapshotter cannot stack on the machine's overlayfs root.
      `--bind=${dirs.containerd}:/var/lib/containerd`,
      `--bind=${dirs.kubelet}:/var/lib/kubelet`,
      '-b',
      '-D',
      dirs.root,
      '-M',
      machine.name,
      `--network-bridge=${bridge}`,
    ],
    {
      detached: true,
      stdio: ['ignore', out, out],
      env: {
        ...process.env,
        KUBESMITH_LAB_CGROUP: labCgroupName(machine.name),
        // Network sysctls are per network namespace: let prepare set ip_forward and the bridge hooks.
        SYSTEMD_NSPAWN_API_VFS_WRITABLE: 'network',
      },
    },
  );
  closeSync(out);
  child.unref();
  if (!child.pid) throw new Error(`systemd-nspawn did not start for ${machine.name}; see ${dirs.console}`);
  return child.pid;
}

/**
 * Init processes of containers booted from this root whose systemd-nspawn is gone (it was
 * killed): they keep the overlay busy and the veth in place. Found by the container
 * environment and the marker file seen through /proc/PID/root.
 */
export function orphanInits(root: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes('container=systemd-nspawn'))
        continue;
      if (readFileSync(`/proc/${entry}/root/etc/kubesmith-lab-machine`, 'utf8').trim() === root)
        pids.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops a machine by its recorded pid: an orderly poweroff first, then SIGKILL; then any orphaned init. */
export async function halt(pid: number | null, root: string): Promise<void> {
  if (pid && isOurNspawn(pid, root)) {
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 75 && isOurNspawn(pid, root); i++) await sleep(200);
    if (isOurNspawn(pid, root)) {
      // The supervisor leads its process group: nspawn goes with it.
      process.kill(-pid, 'SIGKILL');
      for (let i = 0; i < 25 && isOurNspawn(pid, root); i++) await sleep(200);
    }
  }
  const orphans = orphanInits(root);
  for (const orphan of orphans) process.kill(orphan, 'SIGKILL');
  for (let i = 0; i < 50 && orphans.some(alive); i++) await sleep(100);
}

/** Waits until sshd on the address answers with its banner. */
export async function waitForSsh(address: string, deadlineMs: number): Promise<boolean> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    const banner = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: address, port: 22, timeout: 1000 });
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString().startsWith('SSH-'));
      });
      socket.once('error', () => resolve(false));
      socket.once('timeout', () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (banner) return true;
    await sleep(150);
  }
  return false;
}
