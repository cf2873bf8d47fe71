import { dataKey } from '../engine/run-data.js';

/** What add-node and del-node hand their phases (RunData slots). */

export interface NodeLeaveRequest {
  names: readonly string[];
  /** Delete pods no controller recreates, and those a PodDisruptionBudget still blocks at the timeout. */
  force: boolean;
  drainTimeoutMs: number;
  /** The hosts no longer answer: only the API side (the Node objects) and the inventory change. */
  unreachable: boolean;
  /** The roles the hosts lose in the inventory once they are out (a host left with none is removed). */
  roles: readonly string[];
  /** Names the copy of the previous inventory. */
  stamp: string;
}
export const NODE_LEAVE_REQUEST = dataKey<NodeLeaveRequest>('nodes:leave-request');
/** del-node: where the previous inventory was kept. */
export const NODE_INVENTORY_BACKUP = dataKey<string>('nodes:inventory-backup');
/** del-node: what the drain moved, and what it had to delete with --force. */
export const DRAIN_RESULT = dataKey<{ evicted: string[]; deleted: string[] }>('nodes:drain-result');

/** Hosts that leave the cluster: the hosts-file step drops them from every other host's /etc/hosts. */
export const HOSTS_DROPPED = dataKey<readonly string[]>('hosts:dropped');
