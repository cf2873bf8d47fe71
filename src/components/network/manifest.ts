import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { PACKAGE_ROOT } from '../../package-root.js';
import type { Container, NetworkObject } from './types.js';

const MANIFEST_DIR = join(PACKAGE_ROOT, 'templates', 'network');
const parsed = new Map<string, NetworkObject[]>();

/** The objects of templates/network/<file> (an upstream manifest), a fresh copy for the caller to patch. */
export function upstreamObjects(file: string): NetworkObject[] {
  let objects = parsed.get(file);
  if (!objects) {
    objects = parseManifest(readFileSync(join(MANIFEST_DIR, file), 'utf8'), file);
    parsed.set(file, objects);
  }
  return structuredClone(objects);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNetworkObject(value: unknown): value is NetworkObject {
  return (
    isObject(value) &&
    typeof value.apiVersion === 'string' &&
    typeof value.kind === 'string' &&
    isObject(value.metadata) &&
    typeof value.metadata.name === 'string'
  );
}

/**
 * A multi-document manifest's objects, read as YAML 1.1 as Kubernetes reads manifests; documents
 * holding only comments are left out, anything else that is not an object is an error.
 */
export function parseManifest(text: string, source: string): NetworkObject[] {
  return parseAllDocuments(text, { version: '1.1' }).flatMap((doc, index) => {
    const where = `${source}: document ${index + 1}`;
    const [error] = doc.errors;
    if (error) throw new Error(`${where}: ${error.message}`);
    const value: unknown = doc.toJS();
    if (value === null) return [];
    if (!isNetworkObject(value)) throw new Error(`${where} is not a Kubernetes object`);
    return [value];
  });
}

export function objectNamed(objects: NetworkObject[], kind: string, name: string): NetworkObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`the manifest has no ${kind} ${name}`);
  return found;
}

/** A ConfigMap's data, whose values are strings. */
export function configMapData(configMap: NetworkObject): Record<string, string> {
  if (!isObject(configMap.data)) throw new Error(`ConfigMap ${configMap.metadata.name} has no data`);
  return configMap.data as Record<string, string>;
}

const WORKLOAD_KINDS = new Set(['DaemonSet', 'Deployment']);

/** The containers, init containers first, of every workload's pod template among `objects`. */
export function workloadContainers(objects: NetworkObject[]): Container[] {
  return objects.filter((o) => WORKLOAD_KINDS.has(o.kind)).flatMap(podContainers);
}

function podContainers(workload: NetworkObject): Container[] {
  const template = isObject(workload.spec) ? workload.spec.template : undefined;
  const pod = isObject(template) ? template.spec : undefined;
  if (!isObject(pod) || !Array.isArray(pod.containers))
    throw new Error(`${workload.kind} ${workload.metadata.name} has no pod template`);
  const init: unknown[] = Array.isArray(pod.initContainers) ? pod.initContainers : [];
  return [...init, ...pod.containers] as Container[];
}

export function containerNamed(workload: NetworkObject, name: string): Container {
  const found = podContainers(workload).find((c) => c.name === name);
  if (!found) throw new Error(`${workload.kind} ${workload.metadata.name} has no container ${name}`);
  return found;
}
