import { render } from '../../engine/template.js';
import type { HostSpec, Inventory } from '../../inventory/schema.js';
import { K8S_PATHS } from './paths.js';
import { flagLines } from './unit.js';

export const CONTROLLER_MANAGER_PORT = 10257;

/**
 * kube-controller-manager on one master: signs CSRs with the cluster CA, hands each node a pod
 * CIDR of the inventory's mask size, signs service-account tokens, one leader at a time, each
 * controller with its own service account, serving on 127.0.0.1:10257.
 */
export function controllerManagerFlags(_version: string, inv: Inventory): string[] {
  const net = inv.cluster.network;
  const kubeconfig = K8S_PATHS.controllerManagerKubeconfig;
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${CONTROLLER_MANAGER_PORT}`,
    `--client-ca-file=${K8S_PATHS.caCert}`,
    `--requestheader-client-ca-file=${K8S_PATHS.frontProxyCaCert}`,
    `--cluster-name=${inv.cluster.name}`,
    `--cluster-signing-cert-file=${K8S_PATHS.signingCaCert}`,
    `--cluster-signing-key-file=${K8S_PATHS.caKey}`,
    '--allocate-node-cidrs=true',
    `--cluster-cidr=${net.podCidr}`,
    `--node-cidr-mask-size=${net.nodeCidrMaskSize}`,
    `--service-cluster-ip-range=${net.serviceCidr}`,
    `--service-account-private-key-file=${K8S_PATHS.serviceAccountKey}`,
    `--root-ca-file=${K8S_PATHS.caCert}`,
    '--leader-elect=true',
    '--use-service-account-credentials=true',
    '--profiling=false',
  ];
}

export function renderControllerManagerUnit(version: string, master: HostSpec, inv: Inventory): string {
  return render('kube-controller-manager/kube-controller-manager.service', {
    host: master.name,
    cluster: inv.cluster.name,
    version,
    binary: `${inv.artifacts.binDir}/kube-controller-manager`,
    flagLines: flagLines(controllerManagerFlags(version, inv)),
  });
}
