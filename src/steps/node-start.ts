import { waitHealthyScript } from '../components/kubernetes/health.js';
import type { Step } from '../engine/step.js';
import { KUBELET_UNITS } from '../nodes/footprint.js';
import { unitState, waitFor } from '../power/units.js';
import { NODE_ENDPOINTS } from './certs-kube-node.js';

const HEALTH_TIMEOUT_SECONDS = 90;

/** start, third phase: kube-proxy and kubelet started and answering their health endpoints. */
export const nodeStart: Step = {
  id: 'node-start',
  title: 'start: kube-proxy and kubelet started and healthy',
  async run(ctx) {
    await ctx.apply([...KUBELET_UNITS].reverse().map((unit) => unitState(unit, 'started')));
    await waitFor(
      ctx,
      waitHealthyScript(NODE_ENDPOINTS, HEALTH_TIMEOUT_SECONDS),
      `kubelet or kube-proxy is not healthy ${HEALTH_TIMEOUT_SECONDS} s after it started:`,
      'read the lines above; journalctl -u kubelet on the host has the rest',
    );
  },
};
