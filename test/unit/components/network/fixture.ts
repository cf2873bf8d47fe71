import { isDeepStrictEqual } from 'node:util';
import { objectNamed, workloadContainers } from '../../../../src/components/network/manifest.js';
import type { Container, NetworkObject } from '../../../../src/components/network/types.js';
import { type InventoryInput, inventorySchema } from '../../../../src/inventory/schema.js';

/** A cluster of 1 master and 2 workers, through the schema (defaults filled). */
export function inventory(
  network: Partial<InventoryInput['cluster']['network']> = {},
  imageRegistry?: string,
) {
  return inventorySchema.parse({
    cluster: { name: 'net', network, ...(imageRegistry ? { imageRegistry } : {}) },
    hosts: [
      { name: 'm1', address: '10.0.0.1', roles: ['etcd', 'master'] },
      { name: 'w1', address: '10.0.0.11', roles: ['node'] },
      { name: 'w2', address: '10.0.0.12', roles: ['node'] },
    ],
  });
}

export function container(objects: NetworkObject[], name: string): Container {
  const found = workloadContainers(objects).find((c) => c.name === name);
  if (!found) throw new Error(`no container ${name}`);
  return found;
}

export const find = objectNamed;

export const envValue = (c: Container, name: string) => c.env?.find((e) => e.name === name)?.value;

/** Dotted paths where two parsed documents differ (an object's key present on one side only included). */
export function changedPaths(a: unknown, b: unknown, prefix = ''): string[] {
  if (isDeepStrictEqual(a, b)) return [];
  const bothObjects = a && b && typeof a === 'object' && typeof b === 'object';
  if (!bothObjects || Array.isArray(a) !== Array.isArray(b)) return [prefix];
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(left), ...Object.keys(right)])];
  return keys.flatMap((key) => changedPaths(left[key], right[key], prefix ? `${prefix}.${key}` : key));
}
