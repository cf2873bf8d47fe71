import { expect } from 'vitest';
import { type InventoryInput, inventorySchema } from '../../../../src/inventory/schema.js';
import type { KubeObject } from '../../../../src/kube/types.js';

type ClusterInput = Omit<Partial<InventoryInput['cluster']>, 'network'> & {
  network?: Partial<InventoryInput['cluster']['network']>;
};

/** A cluster of 1 master and 2 workers, through the schema (defaults filled). */
export function inventory(cluster: ClusterInput = {}, addons?: InventoryInput['addons']) {
  return inventorySchema.parse({
    cluster: { name: 'addons', ...cluster },
    ...(addons ? { addons } : {}),
    hosts: [
      { name: 'm1', address: '10.0.0.1', roles: ['etcd', 'master'] },
      { name: 'w1', address: '10.0.0.11', roles: ['node'] },
      { name: 'w2', address: '10.0.0.12', roles: ['node'] },
    ],
  });
}

/** Every string anywhere in `value` (keys included), as `path: string`. */
export function allStrings(value: unknown, path = ''): string[] {
  if (typeof value === 'string') return [`${path}: ${value}`];
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, child]) => [
    `${path}.${key} (key): ${key}`,
    ...allStrings(child, `${path}.${key}`),
  ]);
}

/** The strings of `objects` that still hold a placeholder's `__`, once the `allowed` placeholders are taken out. */
export function leftPlaceholders(objects: KubeObject[], allowed: string[] = []): string[] {
  return allStrings(objects).filter((s) => allowed.reduce((t, a) => t.replaceAll(a, ''), s).includes('__'));
}

export function find(objects: KubeObject[], kind: string, name: string): KubeObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
}

/** Every object names its apiVersion, kind and name, and survives the JSON an apply sends. */
export function expectWellFormed(objects: KubeObject[]): void {
  for (const o of objects) {
    const what = JSON.stringify(o.metadata);
    expect(typeof o.apiVersion === 'string' && o.apiVersion !== '', what).toBe(true);
    expect(typeof o.kind === 'string' && o.kind !== '', what).toBe(true);
    expect(typeof o.metadata.name === 'string' && o.metadata.name !== '', what).toBe(true);
  }
  expect(JSON.parse(JSON.stringify(objects))).toEqual(objects);
}
