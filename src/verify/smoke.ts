import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { nodeTaints } from '../components/kubernetes/kubelet.js';
import type { Inventory } from '../inventory/schema.js';
import { type NodeObject, podSchema, taintSchema } from '../kube/schemas.js';
import type { KubeApi, Taint } from '../kube/types.js';
import { isKubeHost } from './host-probes.js';
import type { Check, CheckStatus } from './report.js';
import { SMOKE_APP, SMOKE_LABEL, SMOKE_PORT, smokeImage, smokeObjects } from './smoke-objects.js';

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

const dialSchema = z.object({
  responses: z.array(z.string()).default([]),
  errors: z.array(z.string()).default([]),
});
const shellSchema = z.object({ output: z.string().default(''), error: z.string().optional() });
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
const smokeCheck = (
  id: string,
  status: CheckStatus,
  summary: string,
  evidence: string[],
  hint?: string,
): Check => ({
  id: `smoke/${id}`,
  area: 'smoke',
  status,
  summary,
  evidence,
  ...(status !== 'ok' && hint ? { hint } : {}),
});

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

/**
 * What the seeds checked by hand, in a namespace of its own deleted afterwards (also after a
 * failure or an interrupt): agnhost replicas spread over the nodes behind a Service; from one of
 * them, DNS answers for the Service and for kubernetes.default, 20 requests through the Service
 * reach at least two pods, every pod on another node answers pod to pod; the NodePort answers on
 * every node.
 */
export async function runSmoke(run: SmokeRun): Promise<Check[]> {
  const { api, inv, signal } = run;
  await deleteLeftovers(api);
  const namespace = `kubesmith-smoke-${randomBytes(3).toString('hex')}`;
  const declared = declaredTaints(inv);
  const targets = run.nodes.filter((n) => schedulable(n, declared) && !run.avoid.has(n.metadata.name));
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
  try {
    await api.apply(
      smokeObjects(
        namespace,
        smokeImage(inv),
        targets.length,
        declared.map((t) => taintSchema.parse(t)),
      ),
    );
    return await probe(run, namespace, targets.length);
  } finally {
    await api.delete('v1', 'Namespace', namespace).catch(() => false);
    if (signal.aborted) await deleteLeftovers(api).catch(() => undefined);
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
  const pods = (await api.list('v1', 'Pod', namespace, `app=${SMOKE_APP}`)).map((p) =>
    podSchema.and(z.object({ status: z.object({ podIP: z.string() }).loose() })).parse(p),
  );
  const nodesUsed = new Set(pods.map((p) => p.spec.nodeName));
  const checks = [
    smokeCheck(
      'pods',
      nodesUsed.size === replicas ? 'ok' : 'warn',
      `${pods.length} agnhost pod(s) on ${nodesUsed.size} node(s)`,
      pods.map((p) => `${p.metadata.name} on ${p.spec.nodeName}, ${p.status.podIP}`),
    ),
  ];
  const [client, ...others] = pods;
  if (!client) return checks;
  const proxy = `/api/v1/namespaces/${namespace}/pods/${client.metadata.name}:${SMOKE_PORT}/proxy`;
  const domain = inv.cluster.network.dnsDomain;
  const serviceName = `${SMOKE_APP}.${namespace}.svc.${domain}`;
  const ask = async <T>(
    schema: z.ZodType<T>,
    path: string,
    query: Record<string, string>,
  ): Promise<T | string> => {
    const answer = await api.rawGet(`${proxy}${path}`, query);
    if (answer.status !== 200) return `${answer.status} ${answer.body.trim().slice(0, 200)}`;
    return schema.parse(JSON.parse(answer.body));
  };
  const dial = (host: string, port: number, tries: number) =>
    ask(dialSchema, '/dial', {
      request: 'hostname',
      protocol: 'http',
      host,
      port: String(port),
      tries: String(tries),
    });
  const from = `from ${client.metadata.name} (${client.spec.nodeName})`;

  const services = {
    smoke: serviceSchema.parse(await api.get('v1', 'Service', SMOKE_APP, namespace)),
    kubernetes: serviceSchema.parse(await api.get('v1', 'Service', 'kubernetes', 'default')),
  };
  // Fully qualified (a trailing dot: no search-list walk), each lookup cut short, so a dead DNS fails fast.
  const lookups = await ask(shellSchema, '/shell', {
    cmd: `timeout 6 getent hosts ${serviceName}.; timeout 6 getent hosts kubernetes.default.svc.${domain}.`,
  });
  const resolved =
    typeof lookups === 'string'
      ? []
      : lookups.output
          .trim()
          .split('\n')
          .map((l) => l.split(/\s+/));
  const dnsEvidence = [
    [serviceName, services.smoke.spec.clusterIP],
    [`kubernetes.default.svc.${domain}`, services.kubernetes.spec.clusterIP],
  ].map(([name, want]) => {
    const got = resolved.find((r) => r[1]?.replace(/\.$/, '') === name)?.[0];
    return {
      ok: got === want,
      line: `${name} -> ${got ?? 'no answer'}${got === want ? '' : ` (wanted ${want})`}`,
    };
  });
  checks.push(
    smokeCheck(
      'dns',
      dnsEvidence.every((e) => e.ok) ? 'ok' : 'fail',
      `cluster DNS ${from}`,
      [
        ...dnsEvidence.map((e) => e.line),
        ...(typeof lookups === 'string' ? [lookups] : lookups.error ? [lookups.error] : []),
      ],
      'see addons/coredns; kubectl -n kube-system logs deploy/coredns',
    ),
  );

  const viaService = await dial(`${serviceName}.`, 80, SERVICE_TRIES);
  const reached = typeof viaService === 'string' ? [] : [...new Set(viaService.responses)];
  const wantReached = Math.min(2, pods.length);
  checks.push(
    smokeCheck(
      'service',
      reached.length >= wantReached && typeof viaService !== 'string' && !viaService.errors.length
        ? 'ok'
        : 'fail',
      `${SERVICE_TRIES} requests to ${serviceName} ${from} reached ${reached.length} pod(s)`,
      typeof viaService === 'string'
        ? [viaService]
        : [...reached.map((r) => `answered: ${r}`), ...viaService.errors.slice(0, 3)],
      'kube-proxy programs Services: systemctl status kube-proxy on the nodes',
    ),
  );

  const remote = others.filter((p) => p.spec.nodeName !== client.spec.nodeName);
  const podAnswers = await Promise.all(
    remote.map(async (p) => ({ pod: p, answer: await dial(p.status.podIP, SMOKE_PORT, 1) })),
  );
  const podLines = podAnswers.map(({ pod, answer }) => {
    const got =
      typeof answer === 'string' ? answer : (answer.responses[0] ?? answer.errors[0] ?? 'no answer');
    return {
      ok: got === pod.metadata.name,
      line: `${pod.metadata.name} (${pod.spec.nodeName}, ${pod.status.podIP}): ${got}`,
    };
  });
  if (remote.length)
    checks.push(
      smokeCheck(
        'pod-to-pod',
        podLines.every((l) => l.ok) ? 'ok' : 'fail',
        `pod to pod ${from} to ${remote.length} pod(s) on other nodes`,
        podLines.map((l) => l.line),
        'the network plugin routes pods between nodes: see network/*',
      ),
    );

  const nodePort = services.smoke.spec.ports[0]?.nodePort;
  if (nodePort) {
    const answers = await run.nodePortAnswers(nodePort);
    const names = new Set(pods.map((p) => p.metadata.name));
    const lines = [...answers].map(([host, a]) => ({
      ok: a.status === 200 && names.has(a.body.trim()),
      line: `${host}: ${a.status === 200 ? a.body.trim() : a.status || 'no answer'}`,
    }));
    const failing = lines.filter((l) => !l.ok).length;
    checks.push(
      smokeCheck(
        'nodeport',
        failing ? 'fail' : 'ok',
        failing
          ? `NodePort ${nodePort} does not answer on ${failing} of ${lines.length} node(s)`
          : `NodePort ${nodePort} answers on ${lines.length} node(s)`,
        lines.map((l) => l.line),
        'kube-proxy on the failing node: systemctl status kube-proxy',
      ),
    );
  }
  return checks;
}
