import { setTimeout as sleep } from 'node:timers/promises';
import { InterruptedError, SshError } from '../errors.js';
import { SshConnection } from '../transport/ssh.js';

const BOOT_ID = ['cat', '/proc/sys/kernel/random/boot_id'];

export interface RebootOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * Reboots the host and returns a new connection once it has come back: the same host key,
 * a new boot id. The old connection is closed; its counters carry over.
 */
export async function rebootHost(conn: SshConnection, options: RebootOptions): Promise<SshConnection> {
  const { signal } = options;
  const before = (await conn.run(BOOT_ID, { signal })).stdout.trim();
  // The connection may drop before systemctl answers: that is the reboot under way.
  await conn.exec(['systemctl', 'reboot'], { signal }).catch((error: unknown) => {
    if (!(error instanceof SshError && error.kind === 'closed')) throw error;
  });
  conn.close();
  const deadline = Date.now() + options.timeoutMs;
  const who = conn.target.name;
  while (Date.now() < deadline) {
    await sleep(1000, undefined, { signal }).catch(() => {
      throw new InterruptedError();
    });
    let next: SshConnection | undefined;
    try {
      next = await SshConnection.open(conn.target, { attempts: 1, signal, bastions: conn.bastions });
      const after = (await next.run(BOOT_ID, { signal })).stdout.trim();
      if (after !== before) {
        next.stats.commands += conn.stats.commands;
        next.stats.bytesUploaded += conn.stats.bytesUploaded;
        return next;
      }
    } catch (error) {
      // Down or still going down; a changed host key or refused login is not a reboot.
      if (!(error instanceof SshError) || !error.transient) throw error;
    }
    next?.close();
  }
  throw new SshError(
    who,
    'timeout',
    `${who}: did not come back within ${Math.round(options.timeoutMs / 1000)} s of a reboot`,
    'check its console; re-run when it answers SSH again',
  );
}
