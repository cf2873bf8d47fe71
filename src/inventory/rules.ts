import { basename } from 'node:path';
import { catalogFor } from '../artifacts/catalog.js';
import type { Problem } from '../errors.js';
import { hostPaths } from '../nodes/footprint.js';
import { type Cidr, cidrContains, cidrSize, cidrsOverlap, parseCidr } from './net.js';
import { isWithin } from './paths.js';
import type { Inventory } from './schema.js';

export interface RuleOptions {
  allowEvenEtcd?: boolean;
}

type PathProblem = Omit<Problem, 'file' | 'line'> & { pathParts: (string | number)[] };

function problem(pathParts: (string | number)[], message: string): PathProblem {
  return { pathParts, path: pathParts.join('.'), message };
}

function duplicates<T>(items: T[], key: (item: T) => string): Map<string, number[]> {
  const seen = new Map<string, number[]>();
  for (const [i, item] of items.entries()) seen.set(key(item), [...(seen.get(key(item)) ?? []), i]);
  return new Map([...seen].filter(([, idx]) => idx.length > 1));
}

function networkRules(inv: Inventory): PathProblem[] {
  const out: PathProblem[] = [];
  const net = inv.cluster.network;
  const base = ['cluster', 'network'];
  const pod = parseCidr(net.podCidr);
  const svc = parseCidr(net.serviceCidr);
  if (!pod) out.push(problem([...base, 'podCidr'], `'${net.podCidr}' is not a valid CIDR`));
  if (!svc) out.push(problem([...base, 'serviceCidr'], `'${net.serviceCidr}' is not a valid CIDR`));
  if (pod && svc && cidrsOverlap(pod, svc)) {
    out.push(problem([...base, 'serviceCidr'], `overlaps podCidr ${net.podCidr}; pick disjoint ranges`));
  }
  if (svc) {
    if (cidrSize(svc) < 16n) {
      out.push(
        problem(
          [...base, 'serviceCidr'],
          'is too small: it needs the API (1st) and DNS (10th) service IPs; use /28 or larger',
        ),
      );
    }
    const maxBits = svc.family === 4 ? 12 : 108;
    if (svc.prefix < maxBits) {
      out.push(
        problem(
          [...base, 'serviceCidr'],
          `is too large for kube-apiserver: the prefix must be /${maxBits} or longer`,
        ),
      );
    }
  }
  if (pod) {
    const bits = pod.family === 4 ? 32 : 128;
    if (net.nodeCidrMaskSize <= pod.prefix || net.nodeCidrMaskSize > bits - 2) {
      out.push(
        problem(
          [...base, 'nodeCidrMaskSize'],
          `must be longer than the podCidr prefix /${pod.prefix} and at most ${bits - 2}`,
        ),
      );
    }
  }
  const [low = 0, high = 0] = net.nodePortRange.split('-').map(Number);
  if (low < 1 || high > 65535 || low >= high) {
    out.push(problem([...base, 'nodePortRange'], 'must be LOW-HIGH inside 1..65535 with LOW < HIGH'));
  }
  const ranges: [string, Cidr | undefined][] = [
    ['podCidr', pod],
    ['serviceCidr', svc],
  ];
  inv.hosts.forEach((h, i) => {
    for (const [label, range] of ranges) {
      if (range && cidrContains(range, h.address)) {
        out.push(
          problem(
            ['hosts', i, 'address'],
            `${h.address} lies inside ${label} ${label === 'podCidr' ? net.podCidr : net.serviceCidr}`,
          ),
        );
      }
    }
  });
  return out;
}

function hostRules(inv: Inventory, options: RuleOptions): PathProblem[] {
  const out: PathProblem[] = [];
  for (const [value, idx] of duplicates(inv.hosts, (h) => h.name)) {
    for (const i of idx.slice(1))
      out.push(problem(['hosts', i, 'name'], `'${value}' is used by hosts[${idx[0]}] too`));
  }
  for (const [value, idx] of duplicates(inv.hosts, (h) => h.address)) {
    for (const i of idx.slice(1))
      out.push(problem(['hosts', i, 'address'], `${value} is used by hosts[${idx[0]}] too`));
  }
  if (!inv.hosts.some((h) => h.roles.includes('master'))) {
    out.push(problem(['hosts'], 'needs at least one host with the master role'));
  }
  const etcdCount = inv.hosts.filter((h) => h.roles.includes('etcd')).length;
  if (etcdCount === 0) out.push(problem(['hosts'], 'needs at least one host with the etcd role'));
  else if (etcdCount % 2 === 0 && !options.allowEvenEtcd) {
    out.push(
      problem(
        ['hosts'],
        `has ${etcdCount} etcd members; use an odd number (1, 3, 5, 7) for quorum, or pass --allow-even-etcd`,
      ),
    );
  }
  if (etcdCount > 7) out.push(problem(['hosts'], `has ${etcdCount} etcd members; etcd supports at most 7`));
  return out;
}

function otherRules(inv: Inventory): PathProblem[] {
  const out: PathProblem[] = [];
  if (inv.artifacts.source === 'dir' && !inv.artifacts.dir) {
    out.push(problem(['artifacts', 'dir'], 'is required when artifacts.source is dir'));
  }
  const downloaded = new Set(
    (['amd64', 'arm64'] as const).flatMap((arch) =>
      catalogFor(inv.cluster.kubernetesVersion, arch).map((e) => basename(e.url)),
    ),
  );
  for (const name of Object.keys(inv.artifacts.sha256)) {
    if (!downloaded.has(name))
      out.push(
        problem(
          ['artifacts', 'sha256', name],
          `is not a file Kubernetes ${inv.cluster.kubernetesVersion} downloads; pin one of: ${[...downloaded].sort().join(', ')}`,
        ),
      );
  }
  const { walDir, dataDir } = inv.etcd;
  if (walDir && (isWithin(walDir, dataDir) || isWithin(dataDir, walDir))) {
    out.push(
      problem(['etcd', 'walDir'], 'must be apart from etcd.dataDir, neither inside the other (or be empty)'),
    );
  }
  if (isWithin(inv.artifacts.binDir, dataDir) || (walDir && isWithin(inv.artifacts.binDir, walDir))) {
    out.push(problem(['artifacts', 'binDir'], 'must not lie inside the etcd data or WAL directory'));
  }
  // destroy and del-node remove these paths: etcd's data (kept aside inside it) must not lie in one.
  for (const [field, dir] of [
    ['dataDir', dataDir],
    ['walDir', walDir],
  ] as const) {
    const owner = dir ? hostPaths(inv, false).find((p) => isWithin(dir, p)) : undefined;
    if (owner)
      out.push(
        problem(
          ['etcd', field],
          `must not lie inside ${owner}, which kubesmith removes from a host it retires`,
        ),
      );
  }
  if (inv.cluster.certificates.certValidityDays > inv.cluster.certificates.caValidityDays) {
    out.push(problem(['cluster', 'certificates', 'certValidityDays'], 'must not exceed caValidityDays'));
  }
  return out;
}

/** Rules that span fields; the schema has already checked each field on its own. */
export function crossFieldProblems(inv: Inventory, options: RuleOptions = {}): PathProblem[] {
  return [...networkRules(inv), ...hostRules(inv, options), ...otherRules(inv)];
}
