import type { Step } from '../engine/step.js';
import { CONTROL_PLANE_UNITS } from '../nodes/footprint.js';
import { stopInOrder } from '../power/units.js';

/** stop, second phase: kube-scheduler, kube-controller-manager, then kube-apiserver, stopped and disabled. */
export const controlPlaneStop: Step = {
  id: 'control-plane-stop',
  title: 'stop: the control plane (scheduler, controller-manager, apiserver) stopped and disabled',
  async run(ctx) {
    await stopInOrder(ctx, CONTROL_PLANE_UNITS);
  },
};
