import { runData } from '../engine/run-data.js';
import type { DeployStep } from '../engine/step.js';
import { INVENTORY_BACKUP, LEAVE_REQUEST, LEAVE_STAMP } from '../etcd/run-keys.js';
import { replaceInventory } from '../inventory/edit.js';

/** del-etcd, once the members are out and retired: the inventory loses their etcd role (a copy of the old one is kept). */
export const etcdLeaveInventory: DeployStep = {
  id: 'etcd-leave-inventory',
  title: 'the inventory without the removed members as etcd (the previous one kept)',
  onDeployMachine: true,
  async run(ctx) {
    const data = runData(ctx.shared);
    const kept = await replaceInventory(
      ctx.inventoryFile,
      data.need(LEAVE_REQUEST).inventoryText,
      data.need(LEAVE_STAMP),
    );
    data.set(INVENTORY_BACKUP, kept);
    ctx.log(`inventory updated; the previous one is at ${kept}`);
  },
};
