import { readFile } from 'node:fs/promises';
import { runData } from '../engine/run-data.js';
import type { DeployStep } from '../engine/step.js';
import { replaceInventory } from '../inventory/edit.js';
import { markUpgradeStarted } from '../upgrade/marker.js';
import { UPGRADE_INVENTORY_BACKUP, UPGRADE_REQUEST } from '../upgrade/run-keys.js';

/**
 * After the checks and the snapshot (whose backup keeps the inventory as it was), before any
 * host changes: the upgrade recorded as unfinished (other runs of the node steps are refused
 * until it is done), then the inventory at the target version, the previous file kept, so that
 * a later setup does not take upgraded hosts back.
 */
export const upgradeInventory: DeployStep = {
  id: 'upgrade-inventory',
  title: 'upgrade: the inventory at the target version (the previous file kept)',
  onDeployMachine: true,
  async run(ctx) {
    const data = runData(ctx.shared);
    const request = data.need(UPGRADE_REQUEST);
    await markUpgradeStarted(ctx.clusterDir, request.to);
    if ((await readFile(ctx.inventoryFile, 'utf8')) === request.inventoryText) return;
    const kept = await replaceInventory(ctx.inventoryFile, request.inventoryText, request.stamp);
    data.set(UPGRADE_INVENTORY_BACKUP, kept);
    ctx.log(`${ctx.inventoryFile}: kubernetesVersion ${request.to}; the previous one is at ${kept}`);
  },
};
