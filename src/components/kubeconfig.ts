import { stringify } from 'yaml';
import type { Inventory } from '../inventory/schema.js';

/** The port the local balancer listens on (127.0.0.1) and every apiserver serves. */
export const APISERVER_PORT = 6443;
/** The local L4 balancer every host runs when cluster.controlPlaneEndpoint is empty. */
export const LOCAL_BALANCER_URL = `https://127.0.0.1:${APISERVER_PORT}`;

/** Where clients reach the API: the control-plane endpoint, or the local balancer when there is none. */
export function apiServerUrl(inv: Inventory): string {
  const endpoint = inv.cluster.controlPlaneEndpoint;
  return endpoint ? `https://${endpoint}` : LOCAL_BALANCER_URL;
}

export interface KubeconfigInput {
  /** The cluster's name (the kubeconfig's cluster entry and context are named after it). */
  clusterName: string;
  server: string;
  /** The CA the client trusts for the server's certificate. */
  caPem: string;
  /** The user entry's name, e.g. system:kube-scheduler or kubernetes-admin. */
  user: string;
  certPem: string;
  keyPem: string;
}

const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/** A kubeconfig with the CA, client cert and key embedded (base64), one cluster, one user, one context. */
export function renderKubeconfig(input: KubeconfigInput): string {
  const context = `${input.user}@${input.clusterName}`;
  return stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: input.clusterName,
          cluster: { server: input.server, 'certificate-authority-data': base64(input.caPem) },
        },
      ],
      users: [
        {
          name: input.user,
          user: {
            'client-certificate-data': base64(input.certPem),
            'client-key-data': base64(input.keyPem),
          },
        },
      ],
      contexts: [{ name: context, context: { cluster: input.clusterName, user: input.user } }],
      'current-context': context,
      preferences: {},
    },
    { lineWidth: 0 },
  );
}
