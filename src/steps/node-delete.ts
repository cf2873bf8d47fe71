import { readFile } from 'node:fs/promises';
import { runData } from '../engine/run-data.js';
import type { DeployStep } from '../engine/step.js';
import { withClusterApi } from '../hostlib/kube-api.js';
import { replaceInventory, withoutRole } from '../inventory/edit.js';
import { NODE_INVENTORY_BACKUP, NODE_LEAVE_REQUEST } from '../nodes/run-keys.js';

/**
 * del-node's last phase: the Node objects deleted (what was left of their pods goes with them),
 * then the inventory without the hosts' node role, the previous file kept beside it.
 */
export const nodeDelete: DeployStep = {
  id: 'node-delete',
  title: 'del-node: the Node objects deleted, the inventory without them (the previous one kept)',
  onDeployMachine: true,
  async run(ctx) {
    const data = runData(ctx.shared);
    const request = data.need(NODE_LEAVE_REQUEST);
    if (ctx.dryRun) {
      ctx.log(`would delete Node ${request.names.join(', ')} and drop them from ${ctx.inventoryFile}`);
      return;
    }
    await withClusterApi(ctx, async (api, via) => {
      for (const name of request.names)
        if (await api.delete('v1', 'Node', name)) {
          ctx.changed(via.name);
          ctx.log(`Node ${name} deleted`);
        }
    });
    // From the file as it is now: an edit made while the drain ran is kept.
    let text = await readFile(ctx.inventoryFile, 'utf8');
    for (const role of request.roles) text = withoutRole(text, request.names, role, ctx.inventoryFile);
    const kept = await replaceInventory(ctx.inventoryFile, text, request.stamp);
    data.set(NODE_INVENTORY_BACKUP, kept);
    ctx.log(`inventory updated; the previous one is at ${kept}`);
  },
};
