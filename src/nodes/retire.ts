import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Resource } from '../engine/resources.js';
import { sectionedRead } from '../hostlib/sections.js';
import { withoutManagedBlock } from '../os/files.js';
import { chainRemoval } from '../os/iptables.js';
import { sh } from '../transport/quote.js';
import {
  CHAIN_PREFIXES,
  INTERFACE_PREFIXES,
  MOUNT_PREFIXES,
  NODE_INTERFACES,
  NODE_UNITS,
} from './footprint.js';

const POD_STOP_TIMEOUT = '30s';

/**
 * Stops what runs on a worker, in order: kubelet (nothing restarts pods), the pods through the
 * CRI (so the CNI plugin releases their addresses), whatever is left in kubepods.slice, the
 * runtime's shims (KillMode=process leaves them running), then containerd and the balancer.
 */
export function stopNodeScript(options: { balancer: boolean; binDir?: string } = { balancer: true }): string {
  const stopUnit = (unit: string) =>
    sh`if systemctl cat ${`${unit}.service`} >/dev/null 2>&1; then systemctl disable --now ${unit} || exit 1; fi`;
  return [
    stopUnit('kubelet'),
    stopUnit('kube-proxy'),
    // kube-proxy's own cleanup: its iptables, IPVS, ipset and nftables state, whatever the mode.
    ...(options.binDir
      ? [
          sh`if [ -x ${`${options.binDir}/kube-proxy`} ]; then ${`${options.binDir}/kube-proxy`} --cleanup >/dev/null 2>&1 || true; fi`,
        ]
      : []),
    sh`if command -v crictl >/dev/null && [ -S /run/containerd/containerd.sock ]; then
  pods=$(crictl --timeout ${POD_STOP_TIMEOUT} pods -q) || pods=''
  for p in $pods; do crictl --timeout ${POD_STOP_TIMEOUT} stopp "$p" >/dev/null || true; crictl rmp -f "$p" >/dev/null || true; done
fi`,
    // kubepods.slice: what kubelet ran; kubesmith.slice: the images step's test sandbox.
    'systemctl stop kubepods.slice kubesmith.slice 2>/dev/null || true',
    'systemctl kill -s KILL containerd.service 2>/dev/null || true',
    stopUnit('containerd'),
    // The balancer only where kubesmith runs it: with a control-plane endpoint, haproxy is the user's.
    ...(options.balancer ? [stopUnit('haproxy')] : []),
  ].join('\n');
}

/** Exits 0 when no unit of a worker is active or enabled: nothing left to stop. */
export function nodeStoppedCheck(options: { balancer: boolean } = { balancer: true }): string {
  const units = NODE_UNITS.filter((u) => options.balancer || u !== 'haproxy');
  return sh`for u in ${units}; do systemctl is-active -q "$u" && exit 1; systemctl is-enabled -q "$u" 2>/dev/null && exit 1; done; exit 0`;
}

export const leftoverRead = sectionedRead([
  ['mounts', 'findmnt -J -l -o TARGET'],
  ['links', 'ip -j link show'],
  ['ipv4', 'iptables-save 2>/dev/null || true'],
  ['ipv6', 'ip6tables-save 2>/dev/null || true'],
]);

const mountsSchema = z.object({ filesystems: z.array(z.object({ target: z.string() })) });
const linksSchema = z.array(z.object({ ifname: z.string() }).loose());

export interface Leftovers {
  /** Deepest first, so each can be unmounted. */
  mounts: string[];
  links: string[];
  /** An iptables-restore --noflush script removing our chains, per family, where it had any. */
  rules: { tool: 'iptables-restore' | 'ip6tables-restore'; text: string; removed: number }[];
}

/** What the read shows is still there of a worker once its services stopped. */
export function leftovers(sections: Map<string, string>): Leftovers {
  const mounts = mountsSchema
    .parse(JSON.parse(sections.get('mounts') || '{"filesystems":[]}'))
    .filesystems.map((f) => f.target)
    .filter((t) => MOUNT_PREFIXES.some((p) => t.startsWith(p)))
    .sort((a, b) => b.length - a.length);
  const links = linksSchema
    .parse(JSON.parse(sections.get('links') || '[]'))
    .map((l) => l.ifname)
    .filter((n) => NODE_INTERFACES.includes(n) || INTERFACE_PREFIXES.some((p) => n.startsWith(p)));
  const rules = (
    [
      ['iptables-restore', sections.get('ipv4') ?? ''],
      ['ip6tables-restore', sections.get('ipv6') ?? ''],
    ] as const
  )
    .map(([tool, save]) => {
      const { script, removed } = chainRemoval(save, CHAIN_PREFIXES);
      return { tool, text: script, removed };
    })
    .filter((r) => r.removed > 0);
  return { mounts, links, rules };
}

/** Feeds a ruleset to iptables-restore through a here-document whose end marker no rule can contain. */
export function restoreScript(tool: string, text: string): string {
  const end = `KUBESMITH_RULES_${randomBytes(8).toString('hex')}`;
  return `${tool} --noflush <<'${end}'\n${text.endsWith('\n') ? text : `${text}\n`}${end}`;
}

/** binDir's parent when it is kubesmith's too (/opt/kube of /opt/kube/bin; not /opt of /opt/bin). */
function ownParent(binDir: string): string[] {
  const parent = binDir.slice(0, binDir.lastIndexOf('/'));
  return parent.split('/').length > 2 ? [parent] : [];
}

/**
 * Removes the paths, and the links in linkDir that point into binDir. A path that is a mount
 * point (a data disk for /var/lib/containerd) is emptied, not unmounted.
 */
export function removeFilesScript(paths: readonly string[], linkDir: string, binDir: string): string {
  return [
    sh`find ${linkDir} -maxdepth 1 -type l -lname ${`${binDir}/*`} -delete`,
    sh`for p in ${[...paths]}; do
  if mountpoint -q "$p"; then find "$p" -xdev -mindepth 1 -maxdepth 1 -exec rm -rf --one-file-system -- {} +; else rm -rf --one-file-system -- "$p"; fi
done`,
    ...ownParent(binDir).map((dir) => sh`rmdir --ignore-fail-on-non-empty ${dir}`),
    'systemctl daemon-reload',
    'systemctl reset-failed 2>/dev/null || true',
  ].join('\n');
}

/** Exits 0 when none of the paths exists (a mount point: is empty) and no link into binDir is left. */
export function filesGoneCheck(paths: readonly string[], linkDir: string, binDir: string): string {
  return sh`for p in ${[...paths]}; do
  if mountpoint -q "$p"; then [ -z "$(ls -A "$p")" ] || exit 1; elif [ -e "$p" ] || [ -L "$p" ]; then exit 1; fi
done
[ -z "$(find ${linkDir} -maxdepth 1 -type l -lname ${`${binDir}/*`})" ]`;
}

/**
 * The cleanup a retiring host needs once its services stopped, as node-retire builds it: mounts
 * below the data dirs unmounted (deepest first), interfaces deleted, our iptables chains removed,
 * the paths and the links into binDir removed, and the cluster's block taken out of /etc/hosts.
 */
export function cleanupResources(
  left: Leftovers,
  paths: readonly string[],
  binDir: string,
  hostsFile: string,
  linkDir = '/usr/local/bin',
): Resource[] {
  return [
    ...(left.mounts.length
      ? [
          {
            kind: 'command' as const,
            title: `unmount ${left.mounts.length} mount(s) of pods and the runtime`,
            // Every mount must go before anything below it is removed: the first that stays stops the run.
            argv: [
              'sh',
              '-c',
              ['set -e', ...left.mounts.map((m) => sh`umount ${m} || umount -l ${m}`)].join('\n'),
            ],
          },
        ]
      : []),
    ...left.links.map((link) => ({
      kind: 'command' as const,
      title: `ip link delete ${link}`,
      argv: ['ip', 'link', 'delete', link],
    })),
    ...left.rules.map((r) => ({
      kind: 'command' as const,
      title: `${r.tool}: ${r.removed} line(s) of kube-proxy's and the CNI plugin's chains removed`,
      argv: ['sh', '-c', restoreScript(r.tool, r.text)],
    })),
    {
      kind: 'command',
      title: `remove ${paths.length} kubesmith paths and the links into ${binDir}`,
      argv: ['sh', '-c', removeFilesScript(paths, linkDir, binDir)],
      unless: ['sh', '-c', filesGoneCheck(paths, linkDir, binDir)],
    },
    { kind: 'file', path: '/etc/hosts', content: withoutManagedBlock(hostsFile, 'cluster hosts') },
  ];
}

/** Exits 0 when none of the units is active or enabled. */
export function unitsStoppedCheck(units: readonly string[]): string {
  return sh`for u in ${[...units]}; do systemctl is-active -q "$u" && exit 1; systemctl is-enabled -q "$u" 2>/dev/null && exit 1; done; exit 0`;
}

/** Stops and disables the units that exist, in the order given. */
export function stopUnitsScript(units: readonly string[]): string {
  return units
    .map(
      (unit) =>
        sh`if systemctl cat ${`${unit}.service`} >/dev/null 2>&1; then systemctl disable --now ${unit} || exit 1; fi`,
    )
    .join('\n');
}
