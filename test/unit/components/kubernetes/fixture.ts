import { X509Certificate } from 'node:crypto';
import { parse } from 'yaml';
import { kubernetesHostFiles } from '../../../../src/components/kubernetes/host-files.js';
import type { HostFile } from '../../../../src/components/kubernetes/paths.js';
import { type InventoryInput, inventorySchema } from '../../../../src/inventory/schema.js';
import { clusterCerts } from '../../../../src/pki/kubernetes-spec.js';
import { ensurePki, type Pki } from '../../../../src/pki/store.js';

/** A 3-master (etcd on each) / 2-worker cluster. */
export function inventory(cluster: Partial<InventoryInput['cluster']> = {}) {
  return inventorySchema.parse({
    cluster: { name: 'prod', ...cluster },
    hosts: [
      { name: 'm1', address: '10.0.0.1', roles: ['etcd', 'master'] },
      { name: 'm2', address: '10.0.0.2', roles: ['etcd', 'master'] },
      { name: 'm3', address: '10.0.0.3', roles: ['etcd', 'master'] },
      { name: 'w1', address: '10.0.0.11', roles: ['node'] },
      { name: 'w2', address: '10.0.0.12', roles: ['node'] },
    ],
  });
}

export type Inventory = ReturnType<typeof inventory>;

/** The cluster's PKI, issued in memory (nothing written). */
export function pkiFor(inv: Inventory): Promise<Pki> {
  return ensurePki('/nonexistent/kubesmith-test-pki', clusterCerts(inv), { persist: false });
}

export const ENCRYPTION_KEY = Buffer.alloc(32, 0x5a);

/** Every host's files for one Kubernetes version, by host name. */
export function renderCluster(inv: Inventory, pki: Pki, version: string, cgroupV1 = false) {
  return new Map<string, HostFile[]>(
    inv.hosts.map((h) => [
      h.name,
      kubernetesHostFiles(h, inv, {
        version,
        pki,
        encryptionKey: ENCRYPTION_KEY,
        kubelet: { cgroupV1 },
        kubeProxy: { keepConntrackMax: true },
      }),
    ]),
  );
}

export function fileAt(files: HostFile[], path: string): HostFile {
  const found = files.find((f) => f.path === path);
  if (!found) throw new Error(`no ${path} among ${files.map((f) => f.path).join(', ')}`);
  return found;
}

/** Flags of a unit's ExecStart, as [name, value] (value '' for a bare flag). */
export function unitFlags(unit: string): [string, string][] {
  const lines = unit.split('\n');
  const start = lines.findIndex((l) => l.startsWith('ExecStart='));
  const flags: [string, string][] = [];
  for (const line of lines.slice(start + 1)) {
    const text = line.trim().replace(/ \\$/, '');
    if (!text.startsWith('--')) break;
    const eq = text.indexOf('=');
    flags.push(eq < 0 ? [text, ''] : [text.slice(0, eq), text.slice(eq + 1)]);
  }
  return flags;
}

export const flagValue = (unit: string, name: string) => unitFlags(unit).find(([n]) => n === name)?.[1];

export function yamlOf(file: HostFile): Record<string, unknown> {
  return parse(file.content) as Record<string, unknown>;
}

/** The CA, client cert and key a kubeconfig embeds, and its server. */
export function kubeconfigParts(file: HostFile) {
  const doc = yamlOf(file) as {
    clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
    users: { user: { 'client-certificate-data': string; 'client-key-data': string } }[];
  };
  const decode = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');
  const cluster = doc.clusters[0]!.cluster;
  const user = doc.users[0]!.user;
  return {
    server: cluster.server,
    caPem: decode(cluster['certificate-authority-data']),
    certPem: decode(user['client-certificate-data']),
    keyPem: decode(user['client-key-data']),
  };
}

export const subjectOf = (pem: string) => new X509Certificate(pem).subject.split('\n');
