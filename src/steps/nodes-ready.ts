import type { DeployStep } from '../engine/step.js';
import { withClusterApi } from '../hostlib/kube-api.js';

const READY_TIMEOUT_MS = 180_000;

/** start, last phase: every node of the run Ready again in the API (its kubelet posted its status). */
export const nodesReady: DeployStep = {
  id: 'nodes-ready',
  title: 'start: every node Ready again',
  onDeployMachine: true,
  async run(ctx) {
    if (ctx.dryRun) return;
    const names = ctx.hosts.map((h) => h.name);
    await withClusterApi(ctx, (api) =>
      api.waitNodesReady(names, { timeoutMs: READY_TIMEOUT_MS, signal: ctx.signal }),
    );
    ctx.log(`${names.length} node(s) Ready: ${names.join(', ')}`);
  },
};
