import { dataKey } from '../engine/run-data.js';
import type { DrainRequest } from '../nodes/drain-nodes.js';

/** What upgrade hands its phases (RunData slots). */

export interface UpgradeRequest {
  /** The target version, 1.35.4. */
  to: string;
  /** The inventory's text at the target version, written once the cluster passed the checks and the snapshot. */
  inventoryText: string;
  /** Names the copy of the previous inventory. */
  stamp: string;
  force: boolean;
  drainTimeoutMs: number;
}
export const UPGRADE_REQUEST = dataKey<UpgradeRequest>('upgrade:request');
/** The hosts whose kubelet is not at the target yet, as the API reported them before any change. */
export const UPGRADE_PENDING = dataKey<readonly string[]>('upgrade:pending');
/** Where the previous inventory was kept (unset when it already named the target). */
export const UPGRADE_INVENTORY_BACKUP = dataKey<string>('upgrade:inventory-backup');
/** The nodes of the batch upgrade-node works on. */
export const UPGRADE_BATCH = dataKey<DrainRequest>('upgrade:batch');
