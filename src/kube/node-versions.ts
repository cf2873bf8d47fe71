import { z } from 'zod';
import { OperationError } from '../errors.js';
import type { KubeHttp } from './http.js';
import { nodeNotReady } from './nodes-ready.js';
import { describePod, isPodReady } from './pod-diagnosis.js';
import { pollUntil, seconds } from './poll.js';
import { readOk } from './responses.js';
import { conditionSchema, listOf, nodeSchema, podSchema } from './schemas.js';
import type { WaitOptions } from './types.js';

const versionedNodeSchema = nodeSchema.extend({
  status: z
    .object({
      conditions: z.array(conditionSchema).default([]),
      nodeInfo: z.object({ kubeletVersion: z.string() }).loose().optional(),
    })
    .loose()
    .prefault({}),
});

/** A node as an upgrade sees it: its kubelet's version (v1.35.4), and why it is not Ready, if it is not. */
export interface NodeVersion {
  name: string;
  kubeletVersion: string | undefined;
  notReady: string | undefined;
}

export async function nodeVersions(http: KubeHttp): Promise<NodeVersion[]> {
  const path = await http.pathOf({ apiVersion: 'v1', kind: 'Node' });
  const nodes = readOk(
    listOf(versionedNodeSchema),
    await http.send({ method: 'GET', path }),
    'list the nodes',
  );
  return nodes.items.map((n) => ({
    name: n.metadata.name,
    kubeletVersion: n.status.nodeInfo?.kubeletVersion,
    notReady: nodeNotReady(n.metadata.name, n),
  }));
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

/** Waits until every pod bound to the node that is not finished is Ready (its DaemonSets' pods, among them). */
export async function waitPodsReadyOn(http: KubeHttp, node: string, options: WaitOptions): Promise<void> {
  let waiting: string[] = [];
  const ready = await pollUntil(async () => {
    const response = await http.send({
      method: 'GET',
      path: '/api/v1/pods',
      query: { fieldSelector: `spec.nodeName=${node}` },
    });
    const pods = readOk(listOf(podSchema), response, `list pods on ${node}`).items;
    waiting = pods
      .filter((p) => p.status.phase !== 'Succeeded' && p.status.phase !== 'Failed' && !isPodReady(p))
      .map((p) => describePod(p));
    return waiting.length === 0;
  }, options);
  if (!ready)
    throw new OperationError(
      `pods on ${node} not Ready after ${seconds(options.timeoutMs)}:\n  ${waiting.join('\n  ')}`,
      `kubectl describe pod on them; the node is uncordoned already, so the same upgrade run again goes on with the next node`,
    );
}
