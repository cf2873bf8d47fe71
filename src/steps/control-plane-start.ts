import { controlPlaneEndpoints, waitHealthyScript } from '../components/kubernetes/health.js';
import type { Step } from '../engine/step.js';
import { CONTROL_PLANE_UNITS } from '../nodes/footprint.js';
import { unitState, waitFor } from '../power/units.js';

const HEALTH_TIMEOUT_SECONDS = 120;

/** start, second phase: kube-apiserver, kube-controller-manager, kube-scheduler started, each answering its health endpoint. */
export const controlPlaneStart: Step = {
  id: 'control-plane-start',
  title: 'start: the control plane (apiserver, controller-manager, scheduler) started and healthy',
  async run(ctx) {
    await ctx.apply([...CONTROL_PLANE_UNITS].reverse().map((unit) => unitState(unit, 'started')));
    await waitFor(
      ctx,
      waitHealthyScript(controlPlaneEndpoints(ctx.host), HEALTH_TIMEOUT_SECONDS),
      `the control plane is not healthy ${HEALTH_TIMEOUT_SECONDS} s after it started:`,
      'read the lines above; journalctl -u kube-apiserver on the host has the rest',
    );
  },
};
