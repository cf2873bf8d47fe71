import { podListSchema, podsNotReady } from '../certs/node-pods.js';
import { APISERVER_PORT } from '../components/kubeconfig.js';
import { needsLocalBalancer } from '../components/kubernetes/haproxy.js';
import { type HealthEndpoint, waitHealthyScript } from '../components/kubernetes/health.js';
import { adminKubeconfig } from '../components/kubernetes/kubeconfigs.js';
import type { Step, StepContext } from '../engine/step.js';
import { OperationError } from '../errors.js';
import { kubernetesPki } from '../hostlib/kubernetes-pki.js';
import { openKubeApi } from '../kube/api.js';
import { pollUntil } from '../kube/poll.js';
import type { KubeApi } from '../kube/types.js';
import { controlPlaneEndpointHost } from '../pki/kubernetes-spec.js';
import { KUBE_PROXY_HEALTHZ } from '../verify/host-probes.js';
import { kubeNode } from './kube-node.js';

const HEALTH_TIMEOUT_SECONDS = 90;
const PODS_TIMEOUT_MS = 180_000;
/**
 * Pods must read Ready throughout this long: the restarted kubelet resets readiness a moment after
 * it answers healthz, and under load (CI, 2026-12-07) more than 5 s later, so the next host's turn
 * (or the health check) saw a pod not ready.
 */
const SETTLE_MS = 15_000;

// Plain HTTP on 127.0.0.1: no TLS options, only (curl needs some words here) no proxy.
const LOCAL = ['--noproxy', '127.0.0.1'];
export const NODE_ENDPOINTS: HealthEndpoint[] = [
  { service: 'kubelet', url: 'http://127.0.0.1:10248/healthz', tls: LOCAL },
  { service: 'kube-proxy', url: KUBE_PROXY_HEALTHZ, tls: LOCAL },
];

async function waitServicesHealthy(ctx: StepContext): Promise<void> {
  const script = waitHealthyScript(NODE_ENDPOINTS, HEALTH_TIMEOUT_SECONDS);
  const result = await ctx.conn.exec(['sh', '-c', script], { signal: ctx.signal });
  if (result.exitCode !== 0)
    throw new OperationError(
      `${ctx.host.name}: kubelet or kube-proxy is not healthy ${HEALTH_TIMEOUT_SECONDS} s after the restart:\n${result.stderr.trim()}`,
      'read the lines above; journalctl -u kubelet on the host has the rest',
    );
}

/** The API through this host's own connection: its local balancer, or the control-plane endpoint. */
async function hostApi(ctx: StepContext): Promise<KubeApi> {
  const { pki } = await kubernetesPki(ctx);
  const endpoint = ctx.inventory.cluster.controlPlaneEndpoint;
  const target = needsLocalBalancer(ctx.inventory)
    ? { host: '127.0.0.1', port: APISERVER_PORT }
    : {
        host: controlPlaneEndpointHost(ctx.inventory)!,
        port: Number(endpoint.slice(endpoint.lastIndexOf(':') + 1)),
      };
  return openKubeApi(ctx.conn, adminKubeconfig(ctx.inventory, pki), { signal: ctx.signal, target });
}

/** The node Ready, then every pod on it Ready on every read (one a second) for SETTLE_MS. */
async function waitPodsReady(ctx: StepContext, api: KubeApi): Promise<void> {
  const name = ctx.host.name;
  await api.waitNodesReady([name], { timeoutMs: PODS_TIMEOUT_MS, signal: ctx.signal });
  let waiting: string[] = [];
  let readySince: number | undefined;
  const settled = await pollUntil(
    async () => {
      const answer = await api.rawGet('/api/v1/pods', { fieldSelector: `spec.nodeName=${name}` });
      if (answer.status !== 200)
        throw new OperationError(`${name}: listing its pods answered ${answer.status}`);
      waiting = podsNotReady(podListSchema.parse(JSON.parse(answer.body)).items);
      if (waiting.length) readySince = undefined;
      else readySince ??= Date.now();
      return readySince !== undefined && Date.now() - readySince >= SETTLE_MS;
    },
    { timeoutMs: PODS_TIMEOUT_MS, signal: ctx.signal },
  );
  if (!settled)
    throw new OperationError(
      `${name}: pods not Ready ${PODS_TIMEOUT_MS / 1000} s after its kubelet restarted: ${waiting.join(', ')}`,
      'kubectl describe pod on them; the next hosts were left as they were',
    );
}

/**
 * kube-node as certs renew runs it: the same files and restarts (the setup step's own run), and
 * after each host its kubelet and kube-proxy healthy, the node Ready and its pods Ready again
 * before the next host starts (the runner runs verify right after run, per host, and renew runs
 * one host at a time).
 */
export const certsKubeNode: Step = {
  ...kubeNode,
  id: 'certs-kube-node',
  title:
    'Nodes: kubelet and kube-proxy certificates rolled out, each host and its pods Ready before the next',
  async verify(ctx) {
    await waitServicesHealthy(ctx);
    const api = await hostApi(ctx);
    try {
      await waitPodsReady(ctx, api);
    } finally {
      await api.close();
    }
  },
};
