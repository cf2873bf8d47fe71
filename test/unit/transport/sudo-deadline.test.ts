import { EventEmitter } from 'node:events';
import type { ClientChannel } from 'ssh2';
import { describe, expect, it } from 'vitest';
import { sudoHandshake, sudoMarkers } from '../../../src/transport/sudo.js';

/** A stand-in for an SSH channel whose sudo never shows kubesmith's prompt (a PAM prompt of its own). */
function silentChannel() {
  const channel = Object.assign(new EventEmitter(), {
    stderr: new EventEmitter(),
    written: [] as string[],
    closed: false,
    write(text: string) {
      channel.written.push(text);
      return true;
    },
    end() {},
    close() {
      channel.closed = true;
    },
  });
  return channel;
}

describe('sudo handshake', () => {
  it('gives up on a sudo that neither asks with our prompt nor starts the command, saying why, password unsent', async () => {
    const channel = silentChannel();
    const seen: string[] = [];
    const handshake = sudoHandshake(
      channel as unknown as ClientChannel,
      'pw-secret',
      sudoMarkers(),
      (chunk) => seen.push(chunk.toString()),
      50,
    );
    channel.stderr.emit('data', Buffer.from('Verification code: '));
    expect(await handshake.running).toBe(false);
    expect(channel.closed).toBe(true);
    expect(channel.written).toEqual([]);
    expect(seen.join('')).toMatch(/Verification code: sudo neither asked .* within 0\.05 s/);
    expect(seen.join('')).not.toContain('pw-secret');
  });
});
