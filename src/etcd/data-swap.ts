import { ETCD_PATHS } from '../components/etcd.js';
import type { HostSpec, Inventory } from '../inventory/schema.js';
import { sh } from '../transport/quote.js';
import { snapshotRestoreArgv } from './ops.js';

/**
 * Shell scripts that replace or retire a member's data. The data dir and the WAL dir may be
 * mount points (a dedicated disk, as etcd recommends), which cannot be renamed (EBUSY): only
 * what is inside them moves, and only by renames within the same directory, so each move is
 * atomic and the old data is never copied or lost. Names kubesmith leaves there start with
 * `kubesmith-` (etcd ignores them: it reads `<dataDir>/member` and the `*.wal` files).
 */
export interface EtcdDirs {
  dataDir: string;
  walDir: string;
}

const PREFIX = 'kubesmith-';

export function dirsOf(inventory: Inventory): EtcdDirs {
  return { dataDir: inventory.etcd.dataDir, walDir: inventory.etcd.walDir };
}

/** Where this run's pieces live on a member. */
export function restorePaths(dirs: EtcdDirs, stamp: string) {
  return {
    freshData: `${dirs.dataDir}/${PREFIX}restore-${stamp}`,
    freshWal: dirs.walDir ? `${dirs.walDir}/${PREFIX}restore-${stamp}` : undefined,
    asideMember: `${dirs.dataDir}/${PREFIX}before-restore-${stamp}`,
    asideWal: dirs.walDir ? `${dirs.walDir}/${PREFIX}before-restore-${stamp}` : undefined,
  };
}

/** Moves every entry of `dir` except kubesmith's own into `into` (created), by renames in `dir`. */
function moveEntries(dir: string, into: string): string {
  return [
    sh`mkdir -p ${into}`,
    sh`find ${dir} -mindepth 1 -maxdepth 1 ! -name ${`${PREFIX}*`} -exec mv -t ${into} {} +`,
  ].join('\n');
}

/** Moves every entry of `from` into `dir`, then removes the empty `from`. */
function moveBack(from: string, dir: string): string {
  return [sh`find ${from} -mindepth 1 -maxdepth 1 -exec mv -t ${dir} {} +`, sh`rmdir ${from}`].join('\n');
}

/**
 * Restores the snapshot into fresh directories inside the data (and WAL) dir, leaving the
 * current data untouched; a leftover of an earlier attempt with the same stamp is removed first.
 */
export function prepareRestoreScript(
  dirs: EtcdDirs,
  stamp: string,
  version: string,
  snapshot: string,
  member: HostSpec,
  inventory: Inventory,
): string {
  const p = restorePaths(dirs, stamp);
  return [
    'set -e',
    sh`mkdir -p ${dirs.dataDir}`,
    sh`rm -rf ${p.freshData}`,
    ...(p.freshWal ? [sh`mkdir -p ${dirs.walDir}`, sh`rm -rf ${p.freshWal}`] : []),
    sh`ETCDCTL_API=3 ${snapshotRestoreArgv(version, snapshot, member, inventory, p.freshData, p.freshWal)} >/dev/null`,
  ].join('\n');
}

/** Puts the restored data in place: the old `member` (and WAL files) aside, the fresh ones in. */
export function swapInScript(dirs: EtcdDirs, stamp: string): string {
  const p = restorePaths(dirs, stamp);
  const member = `${dirs.dataDir}/member`;
  return [
    'set -e',
    sh`if [ -e ${member} ]; then mv ${member} ${p.asideMember}; fi`,
    sh`mv ${`${p.freshData}/member`} ${member}`,
    sh`rmdir ${p.freshData}`,
    sh`chmod 700 ${dirs.dataDir}`,
    ...(p.freshWal && p.asideWal
      ? [
          moveEntries(dirs.walDir, p.asideWal),
          moveBack(p.freshWal, dirs.walDir),
          sh`chmod 700 ${dirs.walDir}`,
        ]
      : []),
  ].join('\n');
}

/**
 * Undoes swapInScript, from wherever it stopped: the restored data goes to `kubesmith-failed-restore-*`,
 * the old data back in place. Safe to run when nothing was swapped.
 */
export function swapBackScript(dirs: EtcdDirs, stamp: string): string {
  const p = restorePaths(dirs, stamp);
  const member = `${dirs.dataDir}/member`;
  const failed = (dir: string) => `${dir}/${PREFIX}failed-restore-${stamp}`;
  return [
    'set -e',
    sh`if [ -e ${p.asideMember} ]; then`,
    sh`  if [ -e ${member} ]; then mkdir -p ${failed(dirs.dataDir)}; mv ${member} ${failed(dirs.dataDir)}/; fi`,
    sh`  mv ${p.asideMember} ${member}`,
    'fi',
    sh`rm -rf ${p.freshData}`,
    ...(p.freshWal && p.asideWal
      ? [
          sh`if [ -e ${p.asideWal} ]; then`,
          moveEntries(dirs.walDir, failed(dirs.walDir)),
          moveBack(p.asideWal, dirs.walDir),
          'fi',
          sh`rm -rf ${p.freshWal}`,
        ]
      : []),
  ].join('\n');
}

/**
 * Retires a removed member: etcd stopped and disabled, its data moved aside inside the data dir
 * (or deleted with purge), and its certificates and keys deleted (they are credentials: the
 * kubesmith client key gives full access to etcd).
 */
export function retireMemberScript(dirs: EtcdDirs, stamp: string, purge: boolean): string {
  const member = `${dirs.dataDir}/member`;
  const asideData = `${dirs.dataDir}/${PREFIX}removed-${stamp}`;
  const asideWal = `${dirs.walDir}/${PREFIX}removed-${stamp}`;
  const lines = ['set -e', 'systemctl disable --now etcd 2>/dev/null || true'];
  if (purge) {
    lines.push(sh`rm -rf ${member}`);
    if (dirs.walDir)
      lines.push(
        sh`if [ -d ${dirs.walDir} ]; then find ${dirs.walDir} -mindepth 1 -maxdepth 1 -exec rm -rf {} +; fi`,
      );
  } else {
    lines.push(sh`if [ -e ${member} ]; then mkdir -p ${asideData}; mv ${member} ${asideData}/; fi`);
    if (dirs.walDir) lines.push(sh`if [ -d ${dirs.walDir} ]; then`, moveEntries(dirs.walDir, asideWal), 'fi');
  }
  lines.push(sh`rm -rf ${ETCD_PATHS.pki}`);
  return lines.join('\n');
}

/** Where retireMemberScript kept the data, for the message. */
export function retiredPaths(dirs: EtcdDirs, stamp: string): string[] {
  return [
    `${dirs.dataDir}/${PREFIX}removed-${stamp}`,
    ...(dirs.walDir ? [`${dirs.walDir}/${PREFIX}removed-${stamp}`] : []),
  ];
}
