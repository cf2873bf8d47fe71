import { z } from 'zod';
import { OperationError } from '../errors.js';
import { drainPlan, podLabel } from './drain.js';
import type { KubeHttp } from './http.js';
import { nodeNotReady } from './nodes-ready.js';
import { describePod, isPodReady } from './pod-diagnosis.js';
import { pollUntil, seconds } from './poll.js';
import { expectOk, readOk } from './responses.js';
import { conditionSchema, listOf, nodeSchema, podSchema, taintSchema } from './schemas.js';
import type { WaitOptions } from './types.js';

/** On a node an upgrade has cordoned and not finished: the target version. A re-run takes the node again. */
export const UPGRADING_ANNOTATION = 'kubesmith.io/upgrading-to';
/** On a node the upgrade itself cordoned (it was schedulable): only such a node is uncordoned afterwards. */
export const CORDONED_ANNOTATION = 'kubesmith.io/cordoned-by';

const versionedNodeSchema = nodeSchema.extend({
  spec: z
    .object({ taints: z.array(taintSchema).default([]), unschedulable: z.boolean().optional() })
    .loose()
    .prefault({}),
  status: z
    .object({
      conditions: z.array(conditionSchema).default([]),
      nodeInfo: z.object({ kubeletVersion: z.string() }).loose().optional(),
    })
    .loose()
    .prefault({}),
});

/** A node as an upgrade sees it: its kubelet's version (v1.35.4), an unfinished upgrade, why it is not Ready. */
export interface NodeVersion {
  name: string;
  kubeletVersion: string | undefined;
  upgradingTo?: string;
  notReady: string | undefined;
}

const nodePath = (name: string) => `/api/v1/nodes/${encodeURIComponent(name)}`;

export async function nodeVersions(http: KubeHttp): Promise<NodeVersion[]> {
  const nodes = readOk(
    listOf(versionedNodeSchema),
    await http.send({ method: 'GET', path: '/api/v1/nodes' }),
    'list the nodes',
  );
  return nodes.items.map((n) => ({
    name: n.metadata.name,
    kubeletVersion: n.status.nodeInfo?.kubeletVersion,
    upgradingTo: n.metadata.annotations?.[UPGRADING_ANNOTATION],
    notReady: nodeNotReady(n.metadata.name, n),
  }));
}

async function patchNode(http: KubeHttp, name: string, patch: unknown, what: string): Promise<void> {
  const body = { contentType: 'application/merge-patch+json', text: JSON.stringify(patch) };
  expectOk(await http.send({ method: 'PATCH', path: nodePath(name), body }), what);
}

/**
 * Marks the node as being upgraded to `version` and cordons it, in one patch; remembers whether
 * it was schedulable, so that only what the upgrade cordoned is uncordoned. Whether it cordoned it.
 */
export async function startNodeUpgrade(http: KubeHttp, name: string, version: string): Promise<boolean> {
  const node = readOk(
    versionedNodeSchema,
    await http.send({ method: 'GET', path: nodePath(name) }),
    `read node ${name}`,
  );
  const cordoning = !node.spec.unschedulable;
  const annotations = {
    [UPGRADING_ANNOTATION]: version,
    ...(cordoning ? { [CORDONED_ANNOTATION]: 'kubesmith upgrade' } : {}),
  };
  if (!cordoning && node.metadata.annotations?.[UPGRADING_ANNOTATION] === version) return false;
  await patchNode(http, name, { metadata: { annotations }, spec: { unschedulable: true } }, `cordon ${name}`);
  return cordoning;
}

/** Drops the upgrade's marks, and uncordons the node when the upgrade cordoned it. Whether it uncordoned it. */
export async function finishNodeUpgrade(http: KubeHttp, name: string): Promise<boolean> {
  const node = readOk(
    versionedNodeSchema,
    await http.send({ method: 'GET', path: nodePath(name) }),
    `read node ${name}`,
  );
  const annotations = node.metadata.annotations ?? {};
  const uncordon = annotations[CORDONED_ANNOTATION] !== undefined;
  if (annotations[UPGRADING_ANNOTATION] === undefined && !uncordon) return false;
  await patchNode(
    http,
    name,
    {
      metadata: { annotations: { [UPGRADING_ANNOTATION]: null, [CORDONED_ANNOTATION]: null } },
      ...(uncordon ? { spec: { unschedulable: null } } : {}),
    },
    `uncordon ${name}`,
  );
  return uncordon;
}

/** Waits until the node is Ready with its kubelet at `version` (1.35.4). */
export async function waitNodeAt(
  http: KubeHttp,
  name: string,
  version: string,
  options: WaitOptions,
): Promise<void> {
  let why = `${name}: not registered`;
  const at = await pollUntil(async () => {
    const node = (await nodeVersions(http)).find((n) => n.name === name);
    why = !node
      ? `${name}: not registered`
      : node.kubeletVersion !== `v${version}`
        ? `${name}: its kubelet reports ${node.kubeletVersion ?? 'no version'}, not v${version}`
        : (node.notReady ?? '');
    return why === '';
  }, options);
  if (!at)
    throw new OperationError(
      `${name} not Ready at ${version} after ${seconds(options.timeoutMs)}: ${why}`,
      `journalctl -u kubelet on ${name}; once it is fixed, run the same upgrade again: it resumes there`,
    );
}

/** Waits until the pods that stay on a drained node (its DaemonSets', static pods) are Ready again. */
export async function waitPodsReadyOn(http: KubeHttp, node: string, options: WaitOptions): Promise<void> {
  let waiting: string[] = [];
  const ready = await pollUntil(async () => {
    const response = await http.send({
      method: 'GET',
      path: '/api/v1/pods',
      query: { fieldSelector: `spec.nodeName=${node}` },
    });
    const items = readOk(z.object({ items: z.array(z.unknown()) }), response, `list pods on ${node}`).items;
    const staying = new Set(drainPlan(items).stay.map(podLabel));
    waiting = items
      .map((item) => podSchema.parse(item))
      .filter((p) =>
        staying.has(podLabel({ namespace: p.metadata.namespace ?? '', name: p.metadata.name, node })),
      )
      .filter((p) => p.status.phase !== 'Succeeded' && p.status.phase !== 'Failed' && !isPodReady(p))
      .map((p) => describePod(p));
    return waiting.length === 0;
  }, options);
  if (!ready)
    throw new OperationError(
      `pods on ${node} not Ready after ${seconds(options.timeoutMs)}:\n  ${waiting.join('\n  ')}`,
      'kubectl describe pod on them; the node is uncordoned already, so the same upgrade run again goes on with the next node',
    );
}
