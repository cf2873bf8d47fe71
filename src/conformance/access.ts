import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import type { Cluster } from '../commands/context.js';
import { APISERVER_PORT } from '../components/kubeconfig.js';
import { needsLocalBalancer } from '../components/kubernetes/haproxy.js';
import { HostPool } from '../engine/pool.js';
import { InputError, unreachableHosts } from '../errors.js';
import { openKubeApi } from '../kube/api.js';
import { openTunnel } from '../kube/tunnel.js';
import type { KubeApi } from '../kube/types.js';

export interface ClusterAccess {
  /** A kubeconfig (0600, in a private temporary directory) whose server is the local tunnel. */
  kubeconfig: string;
  api: KubeApi;
  /** The master the API is reached through. */
  via: string;
  close(): Promise<void>;
}

const kubeconfigSchema = z.looseObject({
  clusters: z
    .array(z.looseObject({ name: z.string(), cluster: z.looseObject({ server: z.string() }) }))
    .min(1),
});

/** The admin kubeconfig with every cluster's server replaced (the apiserver certificate names 127.0.0.1). */
export function pointKubeconfigAt(yaml: string, server: string): string {
  const config = kubeconfigSchema.parse(parse(yaml));
  for (const c of config.clusters) c.cluster.server = server;
  return stringify(config);
}

/**
 * The cluster's API from the deploy machine, as setup reaches it: over SSH to the first master
 * that answers, a local port tunnelled to its 127.0.0.1:6443 (the local balancer, or its
 * apiserver when a control-plane endpoint replaces the balancer), with the admin kubeconfig.
 */
export async function openClusterAccess(cluster: Cluster, signal?: AbortSignal): Promise<ClusterAccess> {
  const { loaded, paths } = cluster;
  const adminFile = join(paths.dir, 'kubeconfig');
  const admin = await readFile(adminFile, 'utf8').catch(() => {
    throw new InputError(
      `no admin kubeconfig at ${adminFile}: set the cluster up first (setup ${loaded.inventory.cluster.name} all)`,
    );
  });
  const masters = loaded.inventory.hosts.filter((h) => h.roles.includes('master'));
  const pool = await HostPool.connect(loaded, masters, {
    knownHostsFile: paths.knownHosts,
    concurrency: masters.length,
    signal,
  });
  const via = masters.find((m) => pool.has(m.name));
  if (!via) {
    pool.close();
    throw unreachableHosts(pool.failures, 'reach the Kubernetes API');
  }
  const target = needsLocalBalancer(loaded.inventory)
    ? { host: '127.0.0.1', port: APISERVER_PORT }
    : { host: via.address, port: APISERVER_PORT };
  const conn = pool.get(via.name);
  const tunnel = await openTunnel(conn, target);
  const dir = await mkdtemp(join(tmpdir(), 'kubesmith-conformance-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const cleanup = async () => {
    await rm(dir, { recursive: true, force: true });
    await tunnel.close();
    pool.close();
  };
  try {
    await writeFile(kubeconfig, pointKubeconfigAt(admin, tunnel.url), { mode: 0o600 });
    const api = await openKubeApi(conn, admin, { signal, target });
    return {
      kubeconfig,
      api,
      via: via.name,
      close: async () => {
        await api.close();
        await cleanup();
      },
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
