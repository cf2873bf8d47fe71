import { z } from 'zod';
import type { KubeHttp } from './http.js';
import { expectOk, readOk } from './responses.js';
import { type NodeObject, nodeSchema } from './schemas.js';
import type { NodeChanges, Taint } from './types.js';

/** Which taints kubesmith set on a node (key:effect, a JSON list): only those are ever removed. */
export const OWNED_TAINTS_ANNOTATION = 'kubesmith.io/taints';
/** Which labels kubesmith set on a node (keys, a JSON list): a label no longer asked for is removed only if listed. */
export const OWNED_LABELS_ANNOTATION = 'kubesmith.io/labels';

/** A node changed between read and patch (a controller added a taint) this many times in a row is an error. */
const ATTEMPTS = 3;

const taintId = (taint: Taint) => `${taint.key}:${taint.effect}`;
const taintText = (taint: Taint) => `${taintId(taint)}=${taint.value ?? ''}`;

function owned(node: NodeObject, annotation: string): string[] {
  const text = node.metadata.annotations?.[annotation];
  try {
    return z.array(z.string()).parse(JSON.parse(text ?? '[]'));
  } catch {
    return [];
  }
}

function sameTaints(a: Taint[], b: Taint[]): boolean {
  const have = new Set(a.map(taintText));
  return a.length === b.length && b.every((t) => have.has(taintText(t)));
}

/**
 * The merge patch that gives the node what changes ask, or undefined when it has it already. Taints
 * others set are kept; those kubesmith set before and no longer wants are removed. The patch carries
 * the resourceVersion read, so a node changed meanwhile is refused (409) rather than overwritten.
 */
export function nodePatch(node: NodeObject, changes: NodeChanges): Record<string, unknown> | undefined {
  const current = node.metadata.labels ?? {};
  const annotations: Record<string, string> = {};
  const asked = { ...changes.labels };
  if (changes.labels) {
    const wantedKeys = Object.keys(changes.labels).filter((k) => changes.labels?.[k] !== null);
    for (const key of owned(node, OWNED_LABELS_ANNOTATION))
      if (!wantedKeys.includes(key)) asked[key] ??= null;
    const ownedKeys = JSON.stringify(wantedKeys.sort());
    if (node.metadata.annotations?.[OWNED_LABELS_ANNOTATION] !== ownedKeys)
      annotations[OWNED_LABELS_ANNOTATION] = ownedKeys;
  }
  const labels = Object.fromEntries(
    Object.entries(asked).filter(([key, value]) =>
      value === null ? key in current : current[key] !== value,
    ),
  );
  const metadata: Record<string, unknown> = { resourceVersion: node.metadata.resourceVersion };
  if (Object.keys(labels).length) metadata.labels = labels;
  let spec: { taints: Taint[] } | undefined;
  if (changes.taints) {
    const wanted = new Set(changes.taints.map(taintId));
    const previously = new Set(owned(node, OWNED_TAINTS_ANNOTATION));
    const others = node.spec.taints.filter((t) => !previously.has(taintId(t)) && !wanted.has(taintId(t)));
    const taints = [
      ...others,
      ...changes.taints.map((t) => node.spec.taints.find((have) => taintText(have) === taintText(t)) ?? t),
    ];
    if (!sameTaints(node.spec.taints, taints)) spec = { taints };
    const ownedTaints = JSON.stringify([...wanted].sort());
    if (node.metadata.annotations?.[OWNED_TAINTS_ANNOTATION] !== ownedTaints)
      annotations[OWNED_TAINTS_ANNOTATION] = ownedTaints;
  }
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  if (!metadata.labels && !metadata.annotations && !spec) return undefined;
  return { metadata, ...(spec ? { spec } : {}) };
}

/** Sets labels and kubesmith's taints on the node; whether anything changed. */
export async function patchNode(http: KubeHttp, name: string, changes: NodeChanges): Promise<boolean> {
  const path = await http.pathOf({ apiVersion: 'v1', kind: 'Node', name });
  for (let attempt = 1; ; attempt++) {
    const node = readOk(nodeSchema, await http.send({ method: 'GET', path }), `read node ${name}`);
    const patch = nodePatch(node, changes);
    if (!patch) return false;
    const response = await http.send({
      method: 'PATCH',
      path,
      body: { contentType: 'application/merge-patch+json', text: JSON.stringify(patch) },
    });
    if (response.status === 409 && attempt < ATTEMPTS) continue;
    expectOk(response, `patch node ${name}`);
    return true;
  }
}
