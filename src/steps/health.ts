import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeployContext, DeployStep } from '../engine/step.js';
import { InputError, InterruptedError, OperationError } from '../errors.js';
import { withClusterApi } from '../hostlib/kube-api.js';
import { hostUrl } from '../inventory/net.js';
import { nodeSchema } from '../kube/schemas.js';
import { sh } from '../transport/quote.js';
import { issuedCerts } from '../verify/checks-certs.js';
import { type HostProbe, hostProbe, inactiveUnits, isKubeHost, splitHttp } from '../verify/host-probes.js';
import { areasOf, expectedWorkloads, judge } from '../verify/judge.js';
import { buildReport, type Check } from '../verify/report.js';
import { runSmoke } from '../verify/smoke.js';
import { awaitNodeMetrics, type ClusterSnapshot, readApi } from '../verify/snapshot.js';

/** Run data the verify command sets: the setup steps it verifies, and where to save the evidence. */
export const VERIFY_STEPS_KEY = 'verify:steps';
export const VERIFY_EVIDENCE_KEY = 'verify:evidence-file';
/** How long a just-built cluster gets for metrics-server's first scrape of every node. */
const METRICS_SETTLE_MS = 60_000;

async function probeHosts(ctx: DeployContext, etcdVia: string | undefined): Promise<HostProbe[]> {
  return Promise.all(
    ctx.hosts.map(async (host) => {
      try {
        const read = hostProbe(host, ctx.inventory, host.name === etcdVia);
        const result = await ctx.conn(host.name).exec(['sh', '-c', read.script], { signal: ctx.signal });
        return { host: host.name, sections: Object.fromEntries(read.parse(result.stdout)) };
      } catch (error) {
        return { host: host.name, error: (error as Error).message };
      }
    }),
  );
}

function nodePortAnswers(ctx: DeployContext) {
  return async (port: number) => {
    const kubeHosts = ctx.hosts.filter(isKubeHost);
    const answers = await Promise.all(
      kubeHosts.map(async (host) => {
        const url = `${hostUrl('http', host.address, port)}/hostname`;
        const result = await ctx
          .conn(host.name)
          .exec(['sh', '-c', sh`curl -s --max-time 5 -w '\n%{http_code}' ${url} || true`], {
            signal: ctx.signal,
          })
          .catch((error: Error) => ({ stdout: `${error.message}\n0` }));
        return [host.name, splitHttp(result.stdout)] as const;
      }),
    );
    return new Map(answers);
  };
}

/** The snapshot as JSON, 0600 from the start (written aside, then renamed into place). */
async function saveEvidence(file: string, snapshot: ClusterSnapshot): Promise<void> {
  const staged = `${file}.tmp-${process.pid}`;
  try {
    await writeFile(staged, `${JSON.stringify(snapshot, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    await rename(staged, file);
  } catch (cause) {
    await rm(staged, { force: true });
    throw new InputError(`--save-evidence ${file}: ${(cause as Error).message}`, [], { cause });
  }
}

/** Kube hosts whose kubelet or containerd the probe found down: no smoke pod is sent there. */
function nodesDown(ctx: DeployContext, probes: HostProbe[]): Set<string> {
  return new Set(
    ctx.hosts
      .filter((host) => {
        const probe = probes.find((p) => p.host === host.name);
        return (
          isKubeHost(host) &&
          (!probe || inactiveUnits(probe, host, ctx.inventory).some((u) => /^(kubelet|containerd) /.test(u)))
        );
      })
      .map((h) => h.name),
  );
}

/**
 * Proves the cluster works, from the deploy machine: etcd, the control plane, the nodes, the
 * network and addons, a functional smoke, the certificates' expiry. One table of checks, each
 * ok / warn / fail with its evidence and a hint; the step fails when a check fails.
 */
export const health: DeployStep = {
  id: 'health',
  title: 'Cluster health: etcd, control plane, nodes, network, addons, a functional smoke, certificates',
  onDeployMachine: true,
  readOnly: true,
  async run(ctx) {
    const areas = areasOf(ctx.shared.get(VERIFY_STEPS_KEY) as string[] | undefined);
    if (ctx.dryRun) {
      ctx.log(`would check: ${[...areas].join(', ')}`);
      return;
    }
    const etcdVia = areas.has('etcd') ? ctx.hosts.find((h) => h.roles.includes('etcd'))?.name : undefined;
    const needsApi = ['control-plane', 'nodes', 'network', 'addons', 'smoke'].some((a) =>
      areas.has(a as never),
    );
    // The API without the run's signal: an interrupted smoke must still delete its namespace.
    const steady = { ...ctx, signal: new AbortController().signal };
    const probes = probeHosts(ctx, etcdVia);
    const [hosts, certs, api] = await Promise.all([
      probes,
      areas.has('certificates') ? issuedCerts(join(ctx.clusterDir, 'pki')) : undefined,
      needsApi
        ? withClusterApi(steady, async (kube) => {
            const namespaces = new Set([
              'kube-system',
              ...expectedWorkloads(ctx.inventory, areas).map((w) => w.ref.namespace),
            ]);
            if (areas.has('addons') && ctx.inventory.addons.metricsServer)
              await awaitNodeMetrics(
                kube,
                ctx.inventory.hosts.filter(isKubeHost).map((h) => h.name),
                {
                  timeoutMs: METRICS_SETTLE_MS,
                  signal: ctx.signal,
                },
              );
            const answers = await readApi(kube, [...namespaces]);
            const smoke: Check[] = [];
            if (areas.has('smoke'))
              smoke.push(
                ...(await runSmoke({
                  api: kube,
                  inv: ctx.inventory,
                  nodes: answers.nodes.map((n) => nodeSchema.parse(n)),
                  avoid: nodesDown(ctx, await probes),
                  nodePortAnswers: nodePortAnswers(ctx),
                  signal: ctx.signal,
                })),
              );
            return { answers, smoke };
          }).catch((error: Error) => {
            if (ctx.signal.aborted) throw error;
            return { error: error.message };
          })
        : undefined,
    ]);
    if (ctx.signal.aborted) throw new InterruptedError();
    const etcdProbe = hosts.find((p) => p.host === etcdVia);
    const etcd = etcdProbe?.sections;
    const snapshot: ClusterSnapshot = {
      hosts,
      ...(api && 'answers' in api ? { api: api.answers } : {}),
      ...(api && 'error' in api ? { apiError: api.error } : {}),
      ...(etcdVia
        ? {
            etcd: {
              via: etcdProbe?.error ? `${etcdVia} (${etcdProbe.error})` : etcdVia,
              health: etcd?.etcdhealth ?? '',
              status: etcd?.etcdstatus ?? '',
              members: etcd?.etcdmembers ?? '',
              alarms: etcd?.etcdalarms ?? '',
            },
          }
        : {}),
    };
    const evidenceFile = ctx.shared.get(VERIFY_EVIDENCE_KEY) as string | undefined;
    if (evidenceFile) await saveEvidence(evidenceFile, snapshot);
    const checks = [
      ...judge(snapshot, ctx.inventory, { areas, now: new Date(), certs }),
      ...(api && 'smoke' in api ? api.smoke : []),
    ];
    const report = buildReport(ctx.inventory.cluster.name, checks);
    ctx.report(report);
    const failed = checks.filter((c) => c.status === 'fail');
    if (failed.length)
      throw new OperationError(
        `${failed.length} check(s) failed: ${failed.map((c) => c.id).join(', ')}`,
        'the table above gives the evidence and what to do for each',
      );
  },
};
