import { z } from 'zod';
import type { WorkloadRef } from '../components/network/types.js';
import { describePod, isCrashLooping, isPodReady } from '../kube/pod-diagnosis.js';
import {
  conditionSchema,
  daemonSetSchema,
  deploymentSchema,
  listItemSchema,
  type Pod,
  podSchema,
} from '../kube/schemas.js';
import type { Check, CheckArea, CheckStatus } from './report.js';
import type { ApiAnswers } from './snapshot.js';

/** A workload verify expects to run: the network plugin's DaemonSet, an enabled addon's workload. */
export interface ExpectedWorkload {
  area: Extract<CheckArea, 'network' | 'addons'>;
  /** The check id's second part (`network/flannel`, `addons/coredns`). */
  name: string;
  ref: WorkloadRef;
}

const METRICS_API = 'v1beta1.metrics.k8s.io';
const apiServiceSchema = z
  .object({
    metadata: z.object({ name: z.string() }).loose(),
    status: z
      .object({ conditions: z.array(conditionSchema).default([]) })
      .loose()
      .prefault({}),
  })
  .loose();
const metricsListSchema = z
  .object({ items: z.array(z.object({ metadata: z.object({ name: z.string() }).loose() }).loose()) })
  .loose();

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

const isRef = (ref: WorkloadRef) => (object: unknown) => {
  const metadata = listItemSchema.safeParse(object).data?.metadata;
  return metadata?.name === ref.name && metadata.namespace === ref.namespace;
};

function podsOf(api: ApiAnswers, ref: WorkloadRef, matchLabels: Record<string, string> = {}): Pod[] {
  return api.pods
    .map((p) => podSchema.parse(p))
    .filter(
      (p) =>
        p.metadata.namespace === ref.namespace &&
        Object.entries(matchLabels).every(([k, v]) => p.metadata.labels?.[k] === v),
    );
}

function workloadCheck(api: ApiAnswers, expected: ExpectedWorkload, nodeCount: number): Check {
  const { ref } = expected;
  const id = `${expected.area}/${expected.name}`;
  const where = `${ref.kind} ${ref.namespace}/${ref.name}`;
  const hint = `kubectl -n ${ref.namespace} describe ${ref.kind.toLowerCase()} ${ref.name}; the pods' logs say why (setup ${expected.area === 'network' ? '06' : '07'} re-applies it)`;
  const raw = (ref.kind === 'DaemonSet' ? api.daemonSets : api.deployments).find(isRef(ref));
  if (!raw)
    return {
      id,
      area: expected.area,
      status: 'fail',
      summary: `${where} does not exist`,
      evidence: [],
      hint,
    };
  let status: CheckStatus;
  let summary: string;
  let matchLabels: Record<string, string> | undefined;
  if (ref.kind === 'DaemonSet') {
    const ds = daemonSetSchema.parse(raw);
    matchLabels = ds.spec.selector.matchLabels;
    const { desiredNumberScheduled: desired, numberReady: ready } = ds.status;
    status = ready >= desired && desired >= nodeCount ? 'ok' : 'fail';
    summary = `${where}: ${ready} of ${desired} pod(s) ready, ${nodeCount} node(s)`;
  } else {
    const deployment = deploymentSchema.parse(raw);
    matchLabels = deployment.spec.selector.matchLabels;
    const want = deployment.spec.replicas;
    const available = deployment.status.availableReplicas;
    status = want === 0 || available === 0 ? 'fail' : available < want ? 'warn' : 'ok';
    summary = `${where}: ${available} of ${want} replica(s) available`;
  }
  const pods = podsOf(api, ref, matchLabels);
  // A pod in a crash loop is a broken addon, even while older replicas still serve.
  if (pods.some(isCrashLooping)) status = 'fail';
  const troubled = pods.filter((p) => !isPodReady(p)).map((p) => describePod(p));
  return {
    id,
    area: expected.area,
    status,
    summary,
    evidence: troubled.length
      ? troubled
      : pods.map((p) => `${p.metadata.name} (${p.spec.nodeName ?? 'not scheduled'}): ready`),
    ...(status !== 'ok' ? { hint } : {}),
  };
}

function metricsApiCheck(api: ApiAnswers, nodeNames: string[]): Check {
  const service = api.apiServices
    .map((s) => apiServiceSchema.parse(s))
    .find((s) => s.metadata.name === METRICS_API);
  const available = service?.status.conditions.find((c) => c.type === 'Available');
  const evidence = [
    `APIService ${METRICS_API}: ${available ? `Available=${available.status}${available.message ? ` (${available.message})` : ''}` : 'missing'}`,
  ];
  let missing = nodeNames;
  if (api.metricsNodes.status === 200) {
    const parsed = metricsListSchema.safeParse(parseJson(api.metricsNodes.body));
    const reported = new Set(parsed.data?.items.map((i) => i.metadata.name) ?? []);
    missing = nodeNames.filter((n) => !reported.has(n));
    evidence.push(`node metrics for ${nodeNames.length - missing.length} of ${nodeNames.length} node(s)`);
  } else evidence.push(`GET /apis/metrics.k8s.io/v1beta1/nodes: ${api.metricsNodes.status}`);
  const status: CheckStatus =
    available?.status !== 'True' || api.metricsNodes.status !== 200 ? 'fail' : missing.length ? 'warn' : 'ok';
  return {
    id: 'addons/metrics-api',
    area: 'addons',
    status,
    summary:
      status === 'ok' ? `kubectl top answers for every node (${nodeNames.length})` : evidence.join('; '),
    evidence:
      missing.length && status !== 'fail'
        ? [...evidence, `no metrics yet for ${missing.join(', ')}`]
        : evidence,
    ...(status !== 'ok'
      ? {
          hint: 'kubectl -n kube-system logs deploy/metrics-server (it scrapes each kubelet on 10250 with the cluster CA)',
        }
      : {}),
  };
}

/** The network plugin and every enabled addon running everywhere they should; the metrics API answering. */
export function workloadChecks(
  api: ApiAnswers,
  expected: ExpectedWorkload[],
  nodeNames: string[],
  metricsServer: boolean,
): Check[] {
  const checks = expected.map((w) => workloadCheck(api, w, nodeNames.length));
  if (metricsServer) checks.push(metricsApiCheck(api, nodeNames));
  return checks;
}
