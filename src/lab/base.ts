import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';

/** Packages of every lab machine: what a minimal real server has, plus what kubesmith's steps expect to find. */
export const BASE_PACKAGES = [
  'systemd',
  'systemd-sysv',
  'dbus',
  'openssh-server',
  'iproute2',
  'kmod',
  'procps',
  'ca-certificates',
  'iptables',
  'ipset',
  'conntrack',
  'socat',
  'curl',
  'tar',
  'sudo',
  'ipvsadm',
  'chrony',
  'openssl',
  'haproxy',
];
export const SUITE = 'bookworm';
export const MIRROR = process.env.KUBESMITH_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';

function marker(dir: string): string {
  return join(dir, '.kubesmith-base');
}

function wanted(): string {
  return `${SUITE} ${BASE_PACKAGES.join(',')}\n`;
}

/** The shared root filesystem every lab machine overlays; built once with debootstrap and cached. */
export async function ensureBase(
  dir: string,
  say: (line: string) => void,
): Promise<{ rootfs: string; built: boolean }> {
  const rootfs = join(dir, 'rootfs');
  if (existsSync(rootfs) && (await readFile(marker(dir), 'utf8').catch(() => '')) === wanted())
    return { rootfs, built: false };
  say(`building the lab base (Debian ${SUITE}, debootstrap --variant=minbase; about a minute, once)`);
  const staging = join(dir, 'rootfs.building');
  await rm(staging, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await execa('debootstrap', [
    '--variant=minbase',
    `--include=${BASE_PACKAGES.join(',')}`,
    SUITE,
    staging,
    MIRROR,
  ]);
  // Every machine gets its own identity at first boot: host keys, machine-id.
  await execa('sh', [
    '-c',
    'rm -f "$1"/etc/ssh/ssh_host_* && : > "$1"/etc/machine-id && rm -f "$1"/var/lib/dbus/machine-id',
    'sh',
    staging,
  ]);
  await execa('systemctl', ['--root', staging, 'enable', 'systemd-networkd.service']);
  await execa('systemctl', [
    '--root',
    staging,
    'mask',
    'systemd-resolved.service',
    'getty@tty1.service',
    'console-getty.service',
  ]);
  await rm(join(staging, 'etc', 'resolv.conf'), { force: true });
  // Nothing listens on 127.0.0.1:53, so lookups of unknown names fail at once instead of timing out.
  await writeFile(
    join(staging, 'etc', 'resolv.conf'),
    'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n',
  );
  await writeFile(
    join(staging, 'etc', 'ssh', 'sshd_config.d', '10-kubesmith-lab.conf'),
    'HostKey /etc/ssh/ssh_host_ed25519_key\nUseDNS no\n',
  );
  await rm(rootfs, { recursive: true, force: true });
  await rename(staging, rootfs);
  await writeFile(marker(dir), wanted());
  return { rootfs, built: true };
}
