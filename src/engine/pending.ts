import { posix } from 'node:path';
import { sh } from '../transport/quote.js';

/**
 * Restarts owed on a host. A marker per unit is written by the install script before any file
 * moves and removed once the restart succeeded, so a run that dies in between (Ctrl-C, SIGKILL,
 * a lost connection, a failing command) leaves it for the next run, whose probe reads it.
 */
export const PENDING_DIR = '/var/lib/kubesmith/pending-restarts';

/** The marker of a unit file change whose `systemctl daemon-reload` is still owed. */
export const DAEMON_RELOAD = 'daemon-reload';

/** The marker name of a service resource's unit. */
export function unitName(service: string): string {
  return `${service}.service`;
}

/**
 * Shell that records pending restarts (empty files). `|| exit 1`: inside an && list, set -e
 * would not stop the install script, and files would move with no restart recorded.
 */
export function markPendingShell(names: readonly string[]): string {
  return sh`mkdir -p ${PENDING_DIR} && touch ${names.map((n) => posix.join(PENDING_DIR, n))} || exit 1`;
}

export function clearPendingShell(name: string): string {
  return sh`rm -f ${posix.join(PENDING_DIR, name)}`;
}

/** Probe shell listing the pending markers, one name a line. */
export function listPendingShell(): string {
  return sh`ls -1 ${PENDING_DIR} 2>/dev/null`;
}

const SYSTEMD_DIRS = ['/etc/systemd/', '/lib/systemd/', '/usr/lib/systemd/'];

/** Whether a changed path means systemd must reload its units. */
export function isUnitPath(path: string): boolean {
  return SYSTEMD_DIRS.some((dir) => path.startsWith(dir));
}
