import { OperationError } from '../errors.js';
import type { KubeHttp } from './http.js';
import { pollUntil, seconds } from './poll.js';
import { readOk } from './responses.js';
import { listOf, type NodeObject, nodeSchema } from './schemas.js';
import type { WaitOptions } from './types.js';

const readyCondition = (node: NodeObject) => node.status.conditions.find((c) => c.type === 'Ready');

/** Why the named node is not Ready, or undefined when it is. */
export function nodeNotReady(name: string, node: NodeObject | undefined): string | undefined {
  if (!node) return `${name}: not registered (is its kubelet running and able to reach the API?)`;
  const ready = readyCondition(node);
  if (ready?.status === 'True') return undefined;
  if (!ready) return `${name}: no Ready condition yet`;
  const why = [ready.reason, ready.message].filter(Boolean).join(': ');
  return `${name}: Ready=${ready.status}${why ? ` (${why})` : ''}`;
}

/** Waits until every named node exists and reports Ready=True. */
export async function waitNodesReady(http: KubeHttp, names: string[], options: WaitOptions): Promise<void> {
  const path = await http.pathOf({ apiVersion: 'v1', kind: 'Node' });
  let problems: string[] = [];
  const ready = await pollUntil(async () => {
    const nodes = readOk(
      listOf(nodeSchema),
      await http.send({ method: 'GET', path }),
      'list the nodes',
    ).items;
    const byName = new Map(nodes.map((n) => [n.metadata.name, n]));
    problems = names.flatMap((name) => nodeNotReady(name, byName.get(name)) ?? []);
    return problems.length === 0;
  }, options);
  if (ready) return;
  throw new OperationError(
    [`nodes not Ready after ${seconds(options.timeoutMs)}:`, ...problems].join('\n  '),
    'journalctl -u kubelet on each node named',
  );
}
