import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import type { Inventory } from '../inventory/schema.js';
import { clusterCerts } from '../pki/kubernetes-spec.js';
import { cas } from '../pki/spec.js';
import { type CertPart, type HostCertFile, hostCertFiles } from './host-certs.js';
import { certInfo, pemCertificates } from './read.js';

/** One host's turn in a phase: the certificate files it gets and the services restarted for them. */
export interface RenewTurn {
  host: string;
  files: string[];
  restarts: string[];
}

export interface RenewPhase {
  part: CertPart;
  title: string;
  turns: RenewTurn[];
}

export interface RenewPlan {
  /** Leaf ids reissued in pki/ (every leaf of the cluster; the CAs stay). */
  leaves: string[];
  /** In order; inside a phase, one host at a time in inventory order. */
  phases: RenewPhase[];
  /** Things the user should know before saying yes (a CA that expires before the new leaves). */
  warnings: string[];
}

const RESTARTS: Record<CertPart, string[]> = {
  etcd: ['etcd'],
  'kube-master': ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'],
  'kube-node': ['kubelet', 'kube-proxy'],
};
const TITLES: Record<CertPart, string> = {
  etcd: 'etcd members (each healthy, with every other member, before the next)',
  'kube-master': 'masters (each control plane /readyz and /healthz before the next)',
  'kube-node': 'kubelet hosts, masters first (kubelet and kube-proxy healthz before the next)',
};

/** The rollout of the chosen host files: etcd members, masters, kubelet hosts, one host at a time. */
export function rolloutPhases(inv: Inventory, chosen: (file: HostCertFile) => boolean): RenewPhase[] {
  const phases = (['etcd', 'kube-master', 'kube-node'] as const).map((part): RenewPhase => {
    const turns = inv.hosts.flatMap((host): RenewTurn[] => {
      const files = hostCertFiles(host)
        .filter((f) => f.part === part && chosen(f))
        .map((f) => f.path);
      return files.length ? [{ host: host.name, files, restarts: RESTARTS[part] }] : [];
    });
    return { part, title: TITLES[part], turns };
  });
  return phases.filter((p) => p.turns.length > 0);
}

/** Every leaf certificate of the cluster (the CAs left out). */
export const leafIds = (inv: Inventory): string[] =>
  clusterCerts(inv)
    .filter((s) => s.issuer)
    .map((s) => s.id);

/** What certs renew will do, from the inventory alone: every leaf, the phases, the turns. */
export function renewPlan(inv: Inventory): Omit<RenewPlan, 'warnings'> {
  const leaves = leafIds(inv);
  const ids = new Set(leaves);
  return { leaves, phases: rolloutPhases(inv, (f) => ids.has(f.id)) };
}

/**
 * The store's CAs, checked before any host is touched: each present and unexpired (renew keeps
 * them); one that expires before the new leaves would is a warning for the plan.
 */
export async function checkCas(pkiDir: string, inv: Inventory, now = new Date()): Promise<string[]> {
  const warnings: string[] = [];
  const leavesUntil = now.getTime() + inv.cluster.certificates.certValidityDays * 86_400_000;
  for (const ca of cas(inv)) {
    const file = join(pkiDir, `${ca.id}.crt`);
    const text = await readFile(file, 'utf8').catch(() => undefined);
    const first = text ? pemCertificates(text)[0] : undefined;
    if (!first)
      throw new InputError(
        `certs renew: no CA certificate at ${file}; renew works on a cluster this deploy machine set up (its PKI store)`,
      );
    const notAfter = certInfo(first).notAfter;
    if (notAfter.getTime() <= now.getTime())
      throw new InputError(
        `certs renew: the CA ${ca.id} expired on ${notAfter.toISOString()}; leaf renewal cannot help, nor can a rotation with an overlap (nothing trusts an expired CA); rotate CAs before they expire with kubesmith certs renew --ca (verify warns 30 days ahead)`,
      );
    if (notAfter.getTime() < leavesUntil)
      warnings.push(
        `CA ${ca.id} expires on ${notAfter.toISOString().slice(0, 10)}, before the new leaves would (${inv.cluster.certificates.certValidityDays} days): they stop working with it`,
      );
  }
  return warnings;
}

/** The plan as lines for the terminal. */
export function formatRenewPlan(cluster: string, plan: RenewPlan): string {
  const lines = [
    `certs renew plan for cluster ${cluster}:`,
    '  1. an etcd snapshot, copied to the deploy machine and verified',
    `  2. ${plan.leaves.length} leaf certificates reissued in the deploy machine's pki/ (new keys and serials, same CAs);`,
    '     its admin.conf and super-admin.kubeconfig rewritten',
  ];
  plan.phases.forEach((phase, i) => {
    lines.push(`  ${i + 3}. ${phase.title}, one host at a time:`);
    for (const turn of phase.turns)
      lines.push(`       ${turn.host}: ${turn.files.join(', ')} -> restart ${turn.restarts.join(', ')}`);
  });
  lines.push(`  ${plan.phases.length + 3}. the cluster's health checked (as kubesmith verify)`);
  for (const warning of plan.warnings) lines.push(`  warning: ${warning}`);
  return `${lines.join('\n')}\n`;
}
