import type { Step } from '../engine/step.js';
import { KUBELET_UNITS } from '../nodes/footprint.js';
import { stopInOrder } from '../power/units.js';

/**
 * stop, first phase: kubelet, then kube-proxy, stopped and disabled on every host that runs
 * them. The pods' containers keep running under containerd (and kube-proxy's rules stay), so
 * workloads keep serving what needs no API; start hands them back to their kubelet.
 */
export const nodeStop: Step = {
  id: 'node-stop',
  title: 'stop: kubelet and kube-proxy stopped and disabled (pods keep running under containerd)',
  async run(ctx) {
    await stopInOrder(ctx, KUBELET_UNITS);
  },
};
