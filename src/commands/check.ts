import { HostPool } from '../engine/pool.js';
import { FACTS_SCRIPT, factsByHost, type HostFacts } from '../facts.js';
import { allFindings, type Finding } from '../preflight.js';
import { formatTable } from '../render/table.js';
import type { Cluster } from './context.js';

export interface CheckReport {
  facts: Map<string, HostFacts>;
  findings: Finding[];
  blocking: boolean;
}

/** Connects to every host and reports what would stop a setup, without changing anything. */
export async function checkCluster(
  cluster: Cluster,
  options: { becomePassword?: string; signal?: AbortSignal } = {},
): Promise<CheckReport> {
  const { inventory } = cluster.loaded;
  const pool = await HostPool.connect(cluster.loaded, inventory.hosts, {
    knownHostsFile: cluster.paths.knownHosts,
    concurrency: inventory.ssh.concurrency,
    becomePassword: options.becomePassword,
    signal: options.signal,
    connectScript: FACTS_SCRIPT,
  });
  pool.close();
  const facts = factsByHost(pool.connectOutputs);
  const unreachable = [...pool.failures].map(
    ([host, error]): Finding => ({
      host,
      severity: 'block',
      message: `${error.message}${error.hint ? ` — hint: ${error.hint}` : ''}`,
    }),
  );
  const findings = [...unreachable, ...allFindings(inventory, facts)];
  return { facts, findings, blocking: findings.some((f) => f.severity === 'block') };
}

export function formatCheck(cluster: Cluster, report: CheckReport): string {
  const rows = cluster.loaded.inventory.hosts.map((h) => {
    const f = report.facts.get(h.name);
    const mine = report.findings.filter((x) => x.host === h.name);
    const verdict = mine.some((x) => x.severity === 'block') ? 'BLOCKED' : f ? 'ready' : 'unreachable';
    return [
      h.name,
      h.address,
      verdict,
      f?.os.prettyName ?? '-',
      f?.kernel ?? '-',
      f ? `${f.cpus}/${Math.round(f.memoryMiB / 1024)}G` : '-',
      f ? `${(f.clockSkewMs / 1000).toFixed(2)}s` : '-',
      f?.productUuid.slice(0, 8) ?? '-',
    ];
  });
  const table = formatTable(['HOST', 'ADDRESS', 'VERDICT', 'OS', 'KERNEL', 'CPU/MEM', 'SKEW', 'UUID'], rows);
  const order = { block: 0, warn: 1, info: 2 };
  const notes = [...report.findings]
    .sort((a, b) => order[a.severity] - order[b.severity] || a.host.localeCompare(b.host))
    .map((f) => `${f.severity.toUpperCase().padEnd(5)} ${f.host}: ${f.message}`);
  return [table, ...(notes.length ? ['', ...notes] : [])].join('\n');
}
