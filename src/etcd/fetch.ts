import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { OperationError } from '../errors.js';
import type { SshConnection } from '../transport/ssh.js';

/**
 * Copies a file from a host to the deploy machine (`cat` over an exec channel, as root). A
 * local write error (a full disk) stops the copy, removes the partial file and is reported
 * as an OperationError; it never escapes as an unhandled stream error.
 */
export async function fetchRemoteFile(
  conn: Pick<SshConnection, 'exec' | 'target'>,
  remote: string,
  local: string,
  signal?: AbortSignal,
): Promise<void> {
  const file = createWriteStream(local, { mode: 0o600 });
  const stop = new AbortController();
  let writeError: Error | undefined;
  const fail = (error: Error) => {
    writeError ??= error;
    stop.abort();
  };
  file.on('error', fail);
  // The channel writes here; after a write error the rest is dropped so the channel can finish.
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      if (writeError) return callback();
      file.write(chunk, (error) => {
        if (error) fail(error);
        callback();
      });
    },
    final(callback) {
      if (writeError) return callback();
      file.end((error?: Error | null) => {
        if (error) fail(error);
        callback();
      });
    },
  });
  sink.on('error', (error) => {
    writeError ??= error;
  });
  const failed = async (message: string): Promise<never> => {
    file.destroy();
    await rm(local, { force: true });
    throw new OperationError(message);
  };
  let exitCode: number | null = 0;
  let stderr = '';
  try {
    const copied = await conn.exec(['cat', remote], {
      stdout: sink,
      signal: signal ? AbortSignal.any([signal, stop.signal]) : stop.signal,
    });
    exitCode = copied.exitCode;
    stderr = copied.stderr;
  } catch (error) {
    if (!writeError) {
      await rm(local, { force: true });
      throw error;
    }
  }
  if (!writeError && !sink.writableFinished)
    await new Promise<void>((resolve) => sink.once('finish', resolve).once('error', () => resolve()));
  if (writeError)
    return failed(
      `could not write the snapshot to ${local}: ${writeError.message}${(writeError as NodeJS.ErrnoException).code === 'ENOSPC' ? ' (the deploy machine is out of disk space)' : ''}; the partial copy was removed`,
    );
  if (exitCode !== 0) return failed(`could not read ${remote} on ${conn.target.name}: ${stderr.trim()}`);
}
