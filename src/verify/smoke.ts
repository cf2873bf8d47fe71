import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { nodeTaints } from '../components/kubernetes/kubelet.js';
import { InterruptedError } from '../errors.js';
import type { Inventory } from '../inventory/schema.js';
import { type NodeObject, podSchema } from '../kube/schemas.js';
import type { KubeApi, Taint } from '../kube/types.js';
import { isKubeHost } from './host-probes.js';
import type { Check } from './report.js';
import { SMOKE_APP, SMOKE_LABEL, smokeImage, smokeObjects } from './smoke-objects.js';
import {
  dnsCheck,
  nodePortCheck,
  podAsker,
  podToPodCheck,
  type SmokePod,
  serviceCheck,
  settledNodePortAnswers,
  smokeCheck,
} from './smoke-probes.js';

const READY_TIMEOUT_MS = 120_000;
const SERVICE_TRIES = 20;

export interface SmokeRun {
  api: KubeApi;
  inv: Inventory;
  /** The registered nodes, as the snapshot read them. */
  nodes: NodeObject[];
  /** Nodes to leave out although the API still calls them Ready (their host found kubelet or containerd down). */
  avoid: ReadonlySet<string>;
  /** Each kube host asked for http://<its address>:port/hostname: the status and body per host. */
  nodePortAnswers(port: number): Promise<Map<string, { status: number; body: string }>>;
  signal: AbortSignal;
}

const runningPodSchema = podSchema.and(
  z.object({ status: z.object({ podIP: z.string().optional() }).loose() }),
);
const serviceSchema = z
  .object({
    spec: z
      .object({
        clusterIP: z.string(),
        ports: z.array(z.object({ nodePort: z.number().optional() }).loose()),
      })
      .loose(),
  })
  .loose();

const isReady = (node: NodeObject) =>
  node.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True');

/** The taints the inventory gives its nodes: the smoke's pods tolerate them, not a node's trouble. */
function declaredTaints(inv: Inventory): Taint[] {
  const all = inv.hosts.filter(isKubeHost).flatMap((h) => nodeTaints(h, inv));
  return all.filter(
    (t, i) => all.findIndex((u) => u.key === t.key && u.effect === t.effect && u.value === t.value) === i,
  );
}

/** Schedulable for the smoke: Ready, and no taint beyond the declared ones with an effect that keeps pods away. */
function schedulable(node: NodeObject, declared: Taint[]): boolean {
  return (
    isReady(node) &&
    node.spec.taints.every(
      (t) =>
        t.effect === 'PreferNoSchedule' || declared.some((d) => d.key === t.key && d.effect === t.effect),
    )
  );
}

async function deleteLeftovers(api: KubeApi): Promise<void> {
  for (const ns of await api.list('v1', 'Namespace', undefined, `${SMOKE_LABEL}=true`))
    await api.delete('v1', 'Namespace', ns.metadata.name);
}

const stopIfAborted = (signal: AbortSignal) => {
  if (signal.aborted) throw new InterruptedError();
};

/**
 * What the seeds checked by hand, in a namespace of its own deleted afterwards (also after a
 * failure or an interrupt): agnhost pods, one on each schedulable node, behind a NodePort
 * Service; from one of them, DNS answers for the Service and for kubernetes.default, 20
 * requests through the Service reach at least two pods, every pod on another node answers pod
 * to pod; the NodePort answers on every node. Whatever goes wrong becomes a failed check.
 */
export async function runSmoke(run: SmokeRun): Promise<Check[]> {
  const { api, inv, signal } = run;
  const declared = declaredTaints(inv);
  const targets = run.nodes
    .filter((n) => schedulable(n, declared) && !run.avoid.has(n.metadata.name))
    .map((n) => n.metadata.name);
  if (!targets.length)
    return [
      smokeCheck(
        'pods',
        'fail',
        'no node is Ready and schedulable: nothing to run the smoke on',
        [],
        'see nodes/ready',
      ),
    ];
  const namespace = `kubesmith-smoke-${randomBytes(3).toString('hex')}`;
  try {
    stopIfAborted(signal);
    await deleteLeftovers(api);
    await api.apply(smokeObjects(namespace, smokeImage(inv), targets, declared));
    return await probe(run, namespace, targets.length);
  } catch (error) {
    if (error instanceof InterruptedError || signal.aborted) throw error;
    return [
      smokeCheck(
        'run',
        'fail',
        'the smoke could not run to its end',
        (error as Error).message.split('\n'),
        'see the other checks; verify again',
      ),
    ];
  } finally {
    await api.delete('v1', 'Namespace', namespace).catch(() => false);
  }
}

async function probe(run: SmokeRun, namespace: string, replicas: number): Promise<Check[]> {
  const { api, inv, signal } = run;
  try {
    await api.waitDeploymentReady(namespace, SMOKE_APP, { timeoutMs: READY_TIMEOUT_MS, signal });
  } catch (error) {
    if (signal.aborted) throw error;
    return [
      smokeCheck(
        'pods',
        'fail',
        `${replicas} agnhost pod(s) not ready in ${READY_TIMEOUT_MS / 1000} s`,
        (error as Error).message.split('\n'),
        `is ${smokeImage(inv)} in containerd or pullable from every node?`,
      ),
    ];
  }
  const pods: SmokePod[] = (await api.list('v1', 'Pod', namespace, `app=${SMOKE_APP}`))
    .map((p) => runningPodSchema.parse(p))
    .flatMap((p) =>
      p.status.podIP && p.spec.nodeName
        ? [{ name: p.metadata.name, node: p.spec.nodeName, ip: p.status.podIP }]
        : [],
    );
  const nodesUsed = new Set(pods.map((p) => p.node));
  const checks = [
    smokeCheck(
      'pods',
      nodesUsed.size === replicas ? 'ok' : 'warn',
      `${pods.length} agnhost pod(s) on ${nodesUsed.size} node(s)`,
      pods.map((p) => `${p.name} on ${p.node}, ${p.ip}`),
    ),
  ];
  const [client, ...others] = pods;
  if (!client) return checks;
  const ask = podAsker(api, namespace, client);
  const from = `from ${client.name} (${client.node})`;
  const domain = inv.cluster.network.dnsDomain;
  const serviceName = `${SMOKE_APP}.${namespace}.svc.${domain}`;
  const service = serviceSchema.parse(await api.get('v1', 'Service', SMOKE_APP, namespace));
  stopIfAborted(signal);
  if (inv.addons.coredns) {
    const kubernetes = serviceSchema.parse(await api.get('v1', 'Service', 'kubernetes', 'default'));
    checks.push(
      await dnsCheck(ask, from, [
        [serviceName, service.spec.clusterIP],
        [`kubernetes.default.svc.${domain}`, kubernetes.spec.clusterIP],
      ]),
    );
  }
  stopIfAborted(signal);
  // Without cluster DNS the Service is asked by its address.
  const target = inv.addons.coredns ? `${serviceName}.` : service.spec.clusterIP;
  checks.push(await serviceCheck(ask, from, target, SERVICE_TRIES, pods.length));
  stopIfAborted(signal);
  const remote = others.filter((p) => p.node !== client.node);
  if (remote.length) checks.push(await podToPodCheck(ask, from, remote));
  stopIfAborted(signal);
  const nodePort = service.spec.ports[0]?.nodePort;
  if (nodePort)
    checks.push(
      nodePortCheck(nodePort, await settledNodePortAnswers(() => run.nodePortAnswers(nodePort), pods), pods),
    );
  return checks;
}
