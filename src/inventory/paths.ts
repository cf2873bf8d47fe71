/**
 * Directories on the hosts that kubesmith may move aside or delete (etcd data, WAL) or fill
 * (binaries): held to absolute, normalized paths at least two levels deep, away from the
 * system's own directories, so no typo can point `rm -rf` or `mv` at one of them.
 */

/** System directories that must never be one of kubesmith's directories. */
export const SYSTEM_DIRECTORIES: readonly string[] = [
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/home',
  '/lib',
  '/lib32',
  '/lib64',
  '/media',
  '/mnt',
  '/opt',
  '/proc',
  '/root',
  '/run',
  '/sbin',
  '/srv',
  '/sys',
  '/tmp',
  '/usr',
  '/var',
  '/etc/kubernetes',
  '/etc/systemd',
  '/etc/ssh',
  '/opt/kube',
  '/usr/bin',
  '/usr/lib',
  '/usr/lib64',
  '/usr/libexec',
  '/usr/local',
  '/usr/local/bin',
  '/usr/local/lib',
  '/usr/local/sbin',
  '/usr/sbin',
  '/usr/share',
  '/var/cache',
  '/var/lib',
  '/var/lib/containerd',
  '/var/lib/kubelet',
  '/var/lib/docker',
  '/var/log',
  '/var/mail',
  '/var/opt',
  '/var/run',
  '/var/spool',
  '/var/tmp',
];

/** Trees whose content is not a place for lasting data (kernel views, memory, boot files). */
const SYSTEM_TREES = ['/proc', '/sys', '/dev', '/run', '/tmp', '/boot'];

/** Why a path is not a safe directory for kubesmith, or undefined when it is. */
export function unsafeDirectory(path: string): string | undefined {
  if (!path.startsWith('/')) return 'must be an absolute path';
  const parts = path.split('/').slice(1);
  if (path !== '/' && parts.some((p) => p === '' || p === '.' || p === '..'))
    return "must be a normalized path: no '.' or '..' parts, no '//', no trailing '/'";
  if (path === '/' || parts.length < 2)
    return 'must be at least two levels deep (e.g. /var/lib/etcd): kubesmith moves and deletes it';
  if (SYSTEM_DIRECTORIES.includes(path))
    return `is the system directory ${path}; use a directory of its own below it`;
  if (parts[0] === 'home' && parts.length === 2)
    return `is a user's home directory; use a directory of its own below it`;
  const tree = SYSTEM_TREES.find((t) => path.startsWith(`${t}/`));
  if (tree) return `is under ${tree}, which does not hold lasting data`;
  return undefined;
}

/** Whether `inner` is `outer` or lies below it. */
export function isWithin(inner: string, outer: string): boolean {
  return inner === outer || inner.startsWith(`${outer}/`);
}
