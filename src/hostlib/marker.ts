import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Resource } from '../engine/resources.js';
import { clusterPaths, kubesmithHome } from '../home.js';
import type { Inventory } from '../inventory/schema.js';

export const CLUSTER_MARKER = '/etc/kubesmith/cluster-name';

/** A cluster as hosts know it: its name and a random id made once (two clusters may share a name). */
export interface ClusterIdentity {
  name: string;
  id: string;
}

/** What a host's marker says; `id` is absent in markers written before cluster ids existed. */
export interface MarkerContent {
  name: string;
  id?: string;
}

const ID = /^[0-9a-f]{32}$/;

/** The file in a cluster's state dir that keeps its id. */
export function clusterIdFile(clusterDir: string): string {
  return join(clusterDir, 'cluster-id');
}

/** The cluster's id from its state dir, made (random, 128 bits) and kept there on first use. */
export function clusterIdentityIn(clusterDir: string, name: string): ClusterIdentity {
  const file = clusterIdFile(clusterDir);
  const read = () => readFileSync(file, 'utf8').trim();
  let id: string;
  try {
    id = read();
  } catch {
    mkdirSync(clusterDir, { recursive: true, mode: 0o700 });
    try {
      writeFileSync(file, `${randomBytes(16).toString('hex')}\n`, { flag: 'wx', mode: 0o600 });
    } catch (error) {
      // Another run made it at the same moment: use theirs.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    id = read();
  }
  if (!ID.test(id))
    throw new Error(`${file} does not hold a cluster id (32 hex digits); restore it from a backup`);
  return { name, id };
}

let home: string | undefined;
const known = new Map<string, ClusterIdentity>();

/** The kubesmith home whose clusters/<name>/ holds the ids (the CLI sets it from --home). */
export function useKubesmithHome(dir: string): void {
  home = dir;
  known.clear();
}

/** The identity of the inventory's cluster, from its state dir in the kubesmith home. */
export function clusterIdentity(inventory: Inventory): ClusterIdentity {
  const name = inventory.cluster.name;
  let identity = known.get(name);
  if (!identity) {
    identity = clusterIdentityIn(clusterPaths(home ?? kubesmithHome(), name).dir, name);
    known.set(name, identity);
  }
  return identity;
}

export function markerText(identity: ClusterIdentity): string {
  return `name=${identity.name}\nid=${identity.id}\n`;
}

/** A host's marker as data: `name=..` and `id=..` lines, or (older markers) the name alone; undefined when empty. */
export function parseMarker(text: string): MarkerContent | undefined {
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  if (!trimmed.includes('=')) return { name: trimmed };
  const fields = new Map(
    trimmed.split('\n').map((line) => {
      const at = line.indexOf('=');
      return [line.slice(0, at).trim(), line.slice(at + 1).trim()] as const;
    }),
  );
  return { name: fields.get('name') ?? '', id: fields.get('id') || undefined };
}

/** Whether a marker is this cluster's: same name, and the same id unless the marker predates ids. */
export function isOurMarker(
  marker: MarkerContent,
  identity: Pick<ClusterIdentity, 'name'> & { id?: string },
): boolean {
  if (marker.name !== identity.name) return false;
  return marker.id === undefined || identity.id === undefined || marker.id === identity.id;
}

/**
 * Names the cluster a host belongs to, by name and id. Every step that starts a service writes
 * it, so that the host preflight of a later run can tell ports held by this cluster's own
 * services from ports taken by something else, and refuse a host of another cluster even
 * when that one has the same name. A marker holding the name only is rewritten with the id.
 */
export function clusterMarker(inventory: Inventory, identity = clusterIdentity(inventory)): Resource {
  return { kind: 'file', path: CLUSTER_MARKER, content: markerText(identity) };
}
