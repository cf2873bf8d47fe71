import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { LockedError } from '../errors.js';

interface LockInfo {
  pid: number;
  host: string;
  command: string;
  startedAt: string;
  /** Tells this run's lock from any other, so that release() removes only its own. */
  token?: string;
  /** When the holder process started (see processStart): a reused pid is not the holder. */
  processStart?: string;
}

/** A lock file that cannot be read as a whole holder is being written, unless it is older than this. */
export const PARTIAL_LOCK_STALE_MS = 60_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** When a process started, in clock ticks since boot (/proc/PID/stat field 22); undefined without /proc. */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/**
 * Whether the holder's process still runs: its pid is alive and, where both are known, started
 * when the holder did. A SIGKILLed run's pid reused by another process (even by the next run
 * itself, in a container's small pid space) does not keep its lock.
 */
function holderAlive(holder: LockInfo): boolean {
  if (!alive(holder.pid)) return false;
  if (holder.processStart === undefined) return true;
  const now = processStart(holder.pid);
  return now === undefined || now === holder.processStart;
}

export interface Lock {
  release(): Promise<void>;
  /** Set when a stale lock from a dead process was taken over. */
  tookOver?: LockInfo;
}

const code = (error: unknown) => (error as NodeJS.ErrnoException).code;

async function ignoreMissing(work: Promise<unknown>): Promise<void> {
  await work.catch((error: unknown) => {
    if (code(error) !== 'ENOENT') throw error;
  });
}

/** What holds the lock now: its identity on disk, and its content when it parses. */
interface Seen {
  ino: number;
  mtimeMs: number;
  holder?: LockInfo;
}

async function look(file: string): Promise<Seen | undefined> {
  try {
    const [info, text] = await Promise.all([stat(file), readFile(file, 'utf8')]);
    let holder: LockInfo | undefined;
    try {
      const parsed = JSON.parse(text) as Partial<LockInfo>;
      if (typeof parsed.pid === 'number' && typeof parsed.host === 'string') holder = parsed as LockInfo;
    } catch {
      holder = undefined;
    }
    return { ino: info.ino, mtimeMs: info.mtimeMs, holder };
  } catch (error) {
    if (code(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Takes over a stale lock: only the run whose claim (a hard link named after the stale file's
 * inode) succeeds may replace it, by an atomic rename of its fully written file; a second run
 * that saw the same stale lock finds the claim taken and backs off.
 */
async function takeOver(file: string, seen: Seen, written: string): Promise<boolean> {
  const claim = `${file}.takeover-${seen.ino}-${Math.floor(seen.mtimeMs)}`;
  try {
    await link(file, claim);
  } catch (error) {
    if (code(error) === 'ENOENT') return false;
    if (code(error) !== 'EEXIST') throw error;
    // A claim left by a run that died while taking over: clear it for the next attempt.
    const left = await stat(claim).catch(() => undefined);
    if (left && Date.now() - left.mtimeMs > PARTIAL_LOCK_STALE_MS) await ignoreMissing(unlink(claim));
    return false;
  }
  try {
    // The claim links whatever the lock was at that moment: take over only the stale one seen.
    if ((await stat(claim)).ino !== seen.ino) return false;
    await rename(written, file);
    return true;
  } finally {
    await ignoreMissing(unlink(claim));
  }
}

/**
 * One run per cluster at a time. The lock file appears fully written (written aside, then
 * hard-linked into place, which fails if it exists). A lock left by a dead process on this
 * machine (gone, or its pid now another process's), or one that never got its content and is
 * older than a minute, is taken over.
 */
export async function acquireLock(file: string, command: string): Promise<Lock> {
  await mkdir(dirname(file), { recursive: true });
  const token = randomBytes(12).toString('hex');
  const mine: LockInfo = {
    pid: process.pid,
    host: hostname(),
    command,
    startedAt: new Date().toISOString(),
    token,
    processStart: processStart(process.pid),
  };
  const written = `${file}.${process.pid}.${token}.tmp`;
  await writeFile(written, `${JSON.stringify(mine)}\n`, { flag: 'wx', mode: 0o600 });
  const held = (tookOver?: LockInfo): Lock => ({ tookOver, release: () => releaseIfOurs(file, token) });
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await link(written, file);
        return held();
      } catch (error) {
        if (code(error) !== 'EEXIST') throw error;
      }
      const seen = await look(file);
      if (!seen) continue;
      const { holder } = seen;
      if (!holder) {
        if (Date.now() - seen.mtimeMs < PARTIAL_LOCK_STALE_MS)
          throw new LockedError(
            `another run is taking ${file} right now (the file is not complete yet); wait for it, or remove the file if no run is starting`,
          );
      } else if (holder.host !== mine.host || holderAlive(holder)) {
        throw new LockedError(
          `another run holds ${file}: '${holder.command}' (pid ${holder.pid} on ${holder.host}, since ${holder.startedAt}); wait for it, or remove the file if that process is gone`,
        );
      }
      if (await takeOver(file, seen, written)) return held(holder);
    }
  } finally {
    await ignoreMissing(unlink(written));
  }
  throw new LockedError(`could not take the lock ${file}; another run may be starting at the same moment`);
}

/** Removes the lock only while it is still this run's (never one another run took over). */
async function releaseIfOurs(file: string, token: string): Promise<void> {
  const seen = await look(file);
  if (seen?.holder?.token !== token) return;
  await ignoreMissing(unlink(file));
}
