import { dataKey } from '../engine/run-data.js';
import type { Inventory } from '../inventory/schema.js';
import type { SshConnection } from '../transport/ssh.js';
import type { Backup } from './backups.js';
import type { SnapshotRequest, TakenBackup } from './snapshot.js';

/**
 * What the day-2 etcd commands and their phases hand each other (RunData slots). The command
 * sets its inputs; each phase sets what the next needs; the command prints the results.
 */

/** A snapshot to take in the snapshot phase; without it the phase takes none (nothing to change). */
export const SNAPSHOT_REQUEST = dataKey<SnapshotRequest>('etcd:snapshot-request');
/** The backup the snapshot phase wrote (undefined: a safety snapshot skipped, no member answered). */
export const SNAPSHOT_TAKEN = dataKey<TakenBackup | undefined>('etcd:snapshot-taken');

/** restore: the backup, checked against the cluster before the run. */
export const RESTORE_BACKUP = dataKey<Backup>('etcd:restore-backup');
/** restore: the etcd version whose tool restores the snapshot on the members. */
export const RESTORE_TOOL_VERSION = dataKey<string>('etcd:restore-tool-version');
/** restore: this run's stamp, naming the data kept aside on every member. */
export const RESTORE_STAMP = dataKey<string>('etcd:restore-stamp');

export interface RestoreResult {
  keptAside: string[];
  revision: number;
  keyCount: number;
}
export const RESTORE_RESULT = dataKey<RestoreResult>('etcd:restore-result');

export interface AnchorMember {
  name: string;
  /** Its connection, for steps that work on another host. */
  conn(): SshConnection;
}
/** add-etcd / del-etcd: the healthy member that runs the membership commands. */
export const ANCHOR = dataKey<AnchorMember>('etcd:anchor');

/** add-etcd: the hosts named on the command line. */
export const JOIN_NAMES = dataKey<readonly string[]>('etcd:join-names');
/** add-etcd: the hosts that join, in the order they take turns. */
export const JOIN_ORDER = dataKey<readonly string[]>('etcd:join-order');

export interface LeaveRequest {
  names: readonly string[];
  force: boolean;
  purge: boolean;
  /** The inventory before the removal (the run itself uses the one after). */
  before: Inventory;
  /** The inventory file's text after the removal, written once the members are out. */
  inventoryText: string;
}
/** del-etcd: what the command asks. */
export const LEAVE_REQUEST = dataKey<LeaveRequest>('etcd:leave-request');
/** del-etcd: the members to remove, in order (healthy last). */
export const LEAVE_ORDER = dataKey<readonly string[]>('etcd:leave-order');
/** del-etcd: this run's stamp (data kept aside, inventory copy). */
export const LEAVE_STAMP = dataKey<string>('etcd:leave-stamp');
/** del-etcd: where the previous inventory was kept. */
export const INVENTORY_BACKUP = dataKey<string>('etcd:inventory-backup');
