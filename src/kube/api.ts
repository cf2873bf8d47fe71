import { waitDaemonSetReady } from './daemonset-ready.js';
import { waitDeploymentReady } from './deployment-ready.js';
import { cordon, deletePod, evictAll, podsOn, waitPodsGone } from './drain.js';
import { openKubeHttp, withSignal } from './http.js';
import { patchNode } from './node-patch.js';
import {
  finishNodeUpgrade,
  nodeVersions,
  startNodeUpgrade,
  waitNodeAt,
  waitPodsReadyOn,
} from './node-versions.js';
import { waitNodesReady } from './nodes-ready.js';
import { applyObjects, deleteObject, getObject, listObjects } from './objects.js';
import { eitherSignal } from './poll.js';
import { restartWorkload } from './rollout.js';
import { LOCAL_APISERVER, openTunnel, type TunnelTarget } from './tunnel.js';
import type { KubeApi, StreamOpener } from './types.js';

export interface KubeApiOptions {
  /** Aborts every request and wait. */
  signal?: AbortSignal;
  /** Where the API answers on the host: the local balancer or the apiserver, 127.0.0.1:6443 by default. */
  target?: TunnelTarget;
}

/**
 * The Kubernetes API of the cluster, reached through conn (an SSH connection to a master): a local port
 * tunnels each connection to target on the host, and requests carry the kubeconfig's credentials.
 */
export async function openKubeApi(
  conn: StreamOpener,
  kubeconfigYaml: string,
  options: KubeApiOptions = {},
): Promise<KubeApi> {
  const tunnel = await openTunnel(conn, options.target ?? LOCAL_APISERVER);
  const http = await openKubeHttp(tunnel.url, kubeconfigYaml, {
    signal: options.signal,
    transportFailure: tunnel.lastFailure,
  }).catch(async (error: unknown) => {
    await tunnel.close();
    throw error;
  });
  return {
    apply: (objects) => applyObjects(http, objects),
    get: (apiVersion, kind, name, namespace) => getObject(http, { apiVersion, kind, name, namespace }),
    list: (apiVersion, kind, namespace, labelSelector) =>
      listObjects(http, { apiVersion, kind, namespace }, labelSelector),
    delete: (apiVersion, kind, name, namespace) => deleteObject(http, { apiVersion, kind, name, namespace }),
    patchNode: (name, changes) => patchNode(http, name, changes),
    waitDaemonSetReady: (namespace, name, wait) => {
      const signal = eitherSignal(options.signal, wait.signal);
      return waitDaemonSetReady(withSignal(http, wait.signal), namespace, name, { ...wait, signal });
    },
    waitDeploymentReady: (namespace, name, wait) => {
      const signal = eitherSignal(options.signal, wait.signal);
      return waitDeploymentReady(withSignal(http, wait.signal), namespace, name, { ...wait, signal });
    },
    waitNodesReady: (names, wait) => {
      const signal = eitherSignal(options.signal, wait.signal);
      return waitNodesReady(withSignal(http, wait.signal), names, { ...wait, signal });
    },
    podsOn: (nodes) => podsOn(http, nodes),
    cordon: (node) => cordon(http, node),
    startNodeUpgrade: (node, version) => startNodeUpgrade(http, node, version),
    finishNodeUpgrade: (node) => finishNodeUpgrade(http, node),
    nodeVersions: () => nodeVersions(http),
    waitNodeAt: (node, version, wait) =>
      waitNodeAt(http, node, version, { ...wait, signal: eitherSignal(options.signal, wait.signal) }),
    waitPodsReadyOn: (node, wait) =>
      waitPodsReadyOn(http, node, { ...wait, signal: eitherSignal(options.signal, wait.signal) }),
    evictAll: (pods, evictOptions) =>
      evictAll(http, pods, { ...evictOptions, signal: eitherSignal(options.signal, evictOptions.signal) }),
    deletePod: (pod) => deletePod(http, pod),
    waitPodsGone: (pods, wait) =>
      waitPodsGone(http, pods, { ...wait, signal: eitherSignal(options.signal, wait.signal) }),
    restartWorkload: (kind, namespace, name) => restartWorkload(http, kind, namespace, name),
    rawGet: (path, query) => http.send({ method: 'GET', path, ...(query ? { query } : {}) }),
    async close() {
      http.close();
      await tunnel.close();
    },
  };
}
