import { render } from '../../engine/template.js';
import type { HostSpec, Inventory } from '../../inventory/schema.js';
import { K8S_PATHS } from './paths.js';
import { flagLines } from './unit.js';

export const SCHEDULER_PORT = 10259;

/**
 * kube-scheduler on one master: its kubeconfig and leader election live in a
 * KubeSchedulerConfiguration (the --kubeconfig flag is deprecated), serving on 127.0.0.1:10259.
 */
export function schedulerFlags(_version: string): string[] {
  return [
    `--config=${K8S_PATHS.schedulerConfig}`,
    `--authentication-kubeconfig=${K8S_PATHS.schedulerKubeconfig}`,
    `--authorization-kubeconfig=${K8S_PATHS.schedulerKubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${SCHEDULER_PORT}`,
  ];
}

export function renderSchedulerConfig(): string {
  return render('kube-scheduler/kube-scheduler-config.yaml', { kubeconfig: K8S_PATHS.schedulerKubeconfig });
}

export function renderSchedulerUnit(version: string, master: HostSpec, inv: Inventory): string {
  return render('kube-scheduler/kube-scheduler.service', {
    host: master.name,
    cluster: inv.cluster.name,
    version,
    binary: `${inv.artifacts.binDir}/kube-scheduler`,
    flagLines: flagLines(schedulerFlags(version)),
  });
}
