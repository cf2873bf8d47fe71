import { type HealthEndpoint, waitHealthyScript } from '../components/kubernetes/health.js';
import type { Step, StepContext } from '../engine/step.js';
import { OperationError } from '../errors.js';
import { KUBE_PROXY_HEALTHZ } from '../verify/host-probes.js';
import { kubeNode } from './kube-node.js';

const HEALTH_TIMEOUT_SECONDS = 90;

// Plain HTTP on 127.0.0.1: no TLS options, only (curl needs some words here) no proxy.
const LOCAL = ['--noproxy', '127.0.0.1'];
export const NODE_ENDPOINTS: HealthEndpoint[] = [
  { service: 'kubelet', url: 'http://127.0.0.1:10248/healthz', tls: LOCAL },
  { service: 'kube-proxy', url: KUBE_PROXY_HEALTHZ, tls: LOCAL },
];

/** Waits until this host's kubelet and kube-proxy answer their health endpoints. */
async function waitNodeHealthy(ctx: StepContext): Promise<void> {
  const script = waitHealthyScript(NODE_ENDPOINTS, HEALTH_TIMEOUT_SECONDS);
  const result = await ctx.conn.exec(['sh', '-c', script], { signal: ctx.signal });
  if (result.exitCode !== 0)
    throw new OperationError(
      `${ctx.host.name}: kubelet or kube-proxy is not healthy ${HEALTH_TIMEOUT_SECONDS} s after the restart:\n${result.stderr.trim()}`,
      'read the lines above; journalctl -u kubelet on the host has the rest',
    );
}

/**
 * kube-node as certs renew runs it: the same files and restarts (the setup step's own run), and
 * after each host its kubelet and kube-proxy healthy before the next host starts (the runner
 * runs verify right after run, per host, and renew runs one host at a time).
 */
export const certsKubeNode: Step = {
  ...kubeNode,
  id: 'certs-kube-node',
  title: 'Nodes: kubelet and kube-proxy certificates rolled out, each host healthy before the next',
  verify: waitNodeHealthy,
};
