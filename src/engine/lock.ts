import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { LockedError } from '../errors.js';

interface LockInfo {
  pid: number;
  host: string;
  command: string;
  startedAt: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface Lock {
  release(): Promise<void>;
  /** Set when a stale lock from a dead process was taken over. */
  tookOver?: LockInfo;
}

/** One run per cluster at a time. A lock left by a dead process on this machine is taken over. */
export async function acquireLock(file: string, command: string): Promise<Lock> {
  await mkdir(dirname(file), { recursive: true });
  const mine: LockInfo = { pid: process.pid, host: hostname(), command, startedAt: new Date().toISOString() };
  let tookOver: LockInfo | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(file, `${JSON.stringify(mine)}\n`, { flag: 'wx', mode: 0o600 });
      return { tookOver, release: () => rm(file, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let holder: LockInfo | undefined;
    try {
      holder = JSON.parse(await readFile(file, 'utf8')) as LockInfo;
    } catch {
      holder = undefined;
    }
    if (holder && (holder.host !== mine.host || alive(holder.pid))) {
      throw new LockedError(
        `another run holds ${file}: '${holder.command}' (pid ${holder.pid} on ${holder.host}, since ${holder.startedAt}); wait for it, or remove the file if that process is gone`,
      );
    }
    tookOver = holder;
    await rm(file, { force: true });
  }
  throw new LockedError(`could not take the lock ${file}; another run may be starting at the same moment`);
}
