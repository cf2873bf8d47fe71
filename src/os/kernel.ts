import type { Inventory } from '../inventory/schema.js';
import { sh } from '../transport/quote.js';

/** Each module Kubernetes needs, with a test that passes when it is usable (loaded or built in). */
const MODULE_CHECKS: Record<string, string> = {
  overlay: 'grep -qw overlay /proc/filesystems',
  br_netfilter: '[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]',
  nf_conntrack: '[ -e /proc/sys/net/netfilter/nf_conntrack_max ]',
  ip_vs: '[ -e /proc/net/ip_vs ]',
  ip_vs_rr: '[ -d /sys/module/ip_vs_rr ] || grep -qs /ip_vs_rr.ko /lib/modules/$(uname -r)/modules.builtin',
  ip_vs_wrr:
    '[ -d /sys/module/ip_vs_wrr ] || grep -qs /ip_vs_wrr.ko /lib/modules/$(uname -r)/modules.builtin',
  ip_vs_sh: '[ -d /sys/module/ip_vs_sh ] || grep -qs /ip_vs_sh.ko /lib/modules/$(uname -r)/modules.builtin',
};

export function requiredModules(inventory: Inventory): string[] {
  const base = ['overlay', 'br_netfilter', 'nf_conntrack'];
  return inventory.cluster.network.proxyMode === 'ipvs'
    ? [...base, 'ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh']
    : base;
}

export function moduleCheck(module: string): string {
  const check = MODULE_CHECKS[module];
  if (!check) throw new Error(`no availability check for module ${module}`);
  return check;
}

/** Prints `module NAME yes|no` per module and whether modprobe can load anything at all. */
export function moduleProbeScript(modules: readonly string[]): string {
  return [
    ...modules.map((m) => `if ${moduleCheck(m)}; then echo module ${m} yes; else echo module ${m} no; fi`),
    sh`if [ -d /lib/modules/$(uname -r) ] && command -v modprobe >/dev/null; then echo modprobe yes; else echo modprobe no; fi`,
  ].join('\n');
}

export interface SysctlSetting {
  key: string;
  value: string;
}

/** Kernel settings for nodes: forwarding and bridge filtering for pod traffic, limits for many pods. */
export const SYSCTL_SETTINGS: readonly SysctlSetting[] = [
  { key: 'net.ipv4.ip_forward', value: '1' },
  { key: 'net.bridge.bridge-nf-call-iptables', value: '1' },
  { key: 'net.bridge.bridge-nf-call-ip6tables', value: '1' },
  { key: 'net.ipv4.conf.all.route_localnet', value: '1' },
  { key: 'net.ipv4.neigh.default.gc_thresh1', value: '8192' },
  { key: 'net.ipv4.neigh.default.gc_thresh2', value: '32768' },
  { key: 'net.ipv4.neigh.default.gc_thresh3', value: '65536' },
  { key: 'net.core.somaxconn', value: '32768' },
  { key: 'net.ipv4.tcp_keepalive_time', value: '600' },
  { key: 'vm.swappiness', value: '0' },
  { key: 'vm.overcommit_memory', value: '1' },
  { key: 'vm.panic_on_oom', value: '0' },
  { key: 'fs.inotify.max_user_watches', value: '524288' },
  { key: 'fs.inotify.max_user_instances', value: '8192' },
  { key: 'fs.file-max', value: '2097152' },
  { key: 'kernel.pid_max', value: '4194304' },
];

/** Prints `sysctl KEY rw|ro`: inside a container, /proc/sys is read-only except the namespaced net.* keys. */
export function sysctlWritableScript(settings: readonly SysctlSetting[]): string {
  return settings
    .map(
      (s) =>
        sh`if [ -w ${`/proc/sys/${s.key.replaceAll('.', '/')}`} ]; then echo sysctl ${s.key} rw; else echo sysctl ${s.key} ro; fi`,
    )
    .join('\n');
}

/** Exits 0 when every setting already has its value. */
export function sysctlMatchesScript(settings: readonly SysctlSetting[]): string {
  return settings.map((s) => sh`[ "$(sysctl -n ${s.key} 2>/dev/null)" = ${s.value} ]`).join(' && ') || 'true';
}
