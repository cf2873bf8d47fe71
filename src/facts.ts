import { z } from 'zod';
import { CLUSTER_MARKER } from './hostlib/marker.js';
import { type Section, sectionedRead } from './hostlib/sections.js';
import { INSTALLED_VERSION_FILE } from './upgrade/installed.js';

/** What kubesmith learns about a host in one remote command. */
export interface HostFacts {
  os: { id: string; idLike: string[]; versionId: string; codename: string; prettyName: string };
  kernel: string;
  arch: string;
  cpus: number;
  memoryMiB: number;
  swapActive: boolean;
  productUuid: string;
  macs: string[];
  listeningPorts: number[];
  /** Remote clock minus the deploy machine's clock at the command's midpoint, in ms. */
  clockSkewMs: number;
  container: string;
  cgroupVersion: 1 | 2;
  kubesmithCluster: string;
  /** The Kubernetes version kubesmith last installed here ('' when none). */
  kubernetesInstalled: string;
  packageManager: 'apt' | 'dnf' | 'yum' | 'none';
}

/** What the facts are read from, one section each; a step may read more sections in the same command. */
export const FACT_SECTIONS: readonly Section[] = [
  ['os', 'cat /etc/os-release'],
  ['kernel', 'uname -r'],
  ['arch', 'uname -m'],
  ['cpus', 'nproc'],
  ['meminfo', 'cat /proc/meminfo'],
  ['swaps', 'cat /proc/swaps'],
  ['uuid', 'cat /sys/class/dmi/id/product_uuid 2>/dev/null || cat /etc/machine-id'],
  ['links', 'ip -j link show 2>/dev/null || echo []'],
  ['tcp', 'cat /proc/net/tcp /proc/net/tcp6 2>/dev/null'],
  ['virt', 'systemd-detect-virt --container 2>/dev/null || true'],
  ['cgroup', 'stat -fc %T /sys/fs/cgroup'],
  ['marker', `cat ${CLUSTER_MARKER} 2>/dev/null || true`],
  ['kubernetes', `cat ${INSTALLED_VERSION_FILE} 2>/dev/null || true`],
  ['pkg', 'for p in apt-get dnf yum; do command -v $p >/dev/null && { echo $p; break; }; done'],
  ['time', 'date +%s%N'],
];

const FACTS_READ = sectionedRead(FACT_SECTIONS);

/** The facts read, as run by the connect command of a pool (its markers hold a nonce of this process). */
export const FACTS_SCRIPT = FACTS_READ.script;

function keyValues(text: string, separator: RegExp): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [key, ...rest] = line.split(separator);
    if (key && rest.length)
      map.set(
        key.trim(),
        rest
          .join('')
          .trim()
          .replace(/^"(.*)"$/, '$1'),
      );
  }
  return map;
}

const linkSchema = z.array(
  z.object({ ifname: z.string(), link_type: z.string().optional(), address: z.string().optional() }).loose(),
);
const VIRTUAL_LINK = /^(lo|veth|cali|flannel|cni|docker|kube-|vxlan|tunl|cilium|nodelocaldns|br-|virbr)/;

/** Listening TCP ports from /proc/net/tcp{,6}: state 0A is LISTEN. */
export function listeningPorts(procNetTcp: string): number[] {
  const ports = new Set<number>();
  for (const line of procNetTcp.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields[3] !== '0A' || !fields[1]) continue;
    const port = Number.parseInt(fields[1].split(':').pop() ?? '', 16);
    if (Number.isFinite(port)) ports.add(port);
  }
  return [...ports].sort((a, b) => a - b);
}

/** Facts from what FACTS_SCRIPT printed. */
export function parseFacts(stdout: string, localMidpointMs: number): HostFacts {
  return factsFromSections(FACTS_READ.parse(stdout), localMidpointMs);
}

/** Facts from the sections of a read that included FACT_SECTIONS. */
export function factsFromSections(s: ReadonlyMap<string, string>, localMidpointMs: number): HostFacts {
  const get = (k: string) => (s.get(k) ?? '').trim();
  const os = keyValues(get('os'), /=/);
  const mem = keyValues(get('meminfo'), /:/);
  const links = linkSchema.safeParse(JSON.parse(get('links') || '[]'));
  const macs = (links.success ? links.data : [])
    .filter((l) => l.link_type === 'ether' && !VIRTUAL_LINK.test(l.ifname) && l.address)
    .map((l) => l.address!.toLowerCase());
  const pkg = get('pkg').replace('apt-get', 'apt');
  return {
    os: {
      id: os.get('ID') ?? 'unknown',
      idLike: (os.get('ID_LIKE') ?? '').split(/\s+/).filter(Boolean),
      versionId: os.get('VERSION_ID') ?? '',
      codename: os.get('VERSION_CODENAME') ?? '',
      prettyName: os.get('PRETTY_NAME') ?? 'unknown',
    },
    kernel: get('kernel'),
    arch: get('arch'),
    cpus: Number(get('cpus')) || 0,
    memoryMiB: Math.round(Number.parseInt(mem.get('MemTotal') ?? '0', 10) / 1024),
    swapActive: get('swaps').split('\n').length > 1,
    productUuid: get('uuid').toLowerCase(),
    macs,
    listeningPorts: listeningPorts(get('tcp')),
    clockSkewMs: Math.round(Number(BigInt(get('time') || '0') / 1_000_000n) - localMidpointMs),
    container: get('virt') === 'none' ? '' : get('virt'),
    cgroupVersion: get('cgroup') === 'cgroup2fs' ? 2 : 1,
    kubesmithCluster: get('marker'),
    kubernetesInstalled: get('kubernetes'),
    packageManager: pkg === 'apt' || pkg === 'dnf' || pkg === 'yum' ? pkg : 'none',
  };
}

/** Facts of every host from what FACTS_SCRIPT printed in the connect command (see HostPool). */
export function factsByHost(
  outputs: ReadonlyMap<string, { stdout: string; midpointMs: number }>,
): Map<string, HostFacts> {
  return new Map([...outputs].map(([host, o]) => [host, parseFacts(o.stdout, o.midpointMs)]));
}
