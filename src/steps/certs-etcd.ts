import type { Step } from '../engine/step.js';
import { etcd } from './etcd.js';

/**
 * The etcd step as certs renew runs it: the same files and rolling restart, but with its hosts
 * taken one at a time by the runner (not all at once), so each member's verify (every member
 * healthy) runs before the next member restarts rather than while it does.
 */
export const certsEtcd: Step = {
  ...etcd,
  id: 'certs-etcd',
  title: 'etcd members: certificates rolled out, one member at a time, each healthy before the next',
  allHostsAtOnce: false,
};
