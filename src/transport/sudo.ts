import { randomBytes } from 'node:crypto';
import type { ClientChannel } from 'ssh2';
import { type Argv, commandLine } from './quote.js';

/**
 * How a password reaches sudo and nothing else. sudo prints a prompt of our own (a random
 * nonce) on stderr when, and only when, it wants the password; the command, once sudo let it
 * run, prints a second nonce on stderr. The password is written after the first nonce, the
 * command's own stdin only after the second: a sudo that does not ask (NOPASSWD, or a ticket
 * cached with timestamp_type=global) never receives it, so it can reach neither a command
 * nor a file.
 */
export interface SudoMarkers {
  prompt: string;
  ready: string;
}

export function sudoMarkers(): SudoMarkers {
  const nonce = randomBytes(12).toString('hex');
  return { prompt: `[kubesmith-sudo-${nonce}]`, ready: `kubesmith-running-${nonce}` };
}

/** The command line: sudo with our prompt, then a shell that announces the command and execs it. */
export function sudoWithPassword(argv: Argv, markers: SudoMarkers): string {
  // $0 is the ready marker; the script itself has nothing interpolated.
  return commandLine([
    'sudo',
    '-S',
    '-p',
    markers.prompt,
    '--',
    'sh',
    '-c',
    'printf "%s\\n" "$0" >&2; exec "$@"',
    markers.ready,
    ...argv,
  ]);
}

/** How long sudo may take to ask for the password (or start the command). */
export const SUDO_HANDSHAKE_MS = 30_000;

export interface SudoHandshake {
  /** Resolves true once the command runs (stdin may flow), false if the channel ended before. */
  running: Promise<boolean>;
  /** How many times the password was written (0 when sudo did not ask). */
  passwordsSent(): number;
}

/**
 * Watches stderr of a channel started with sudoWithPassword(): writes the password once per run
 * when the prompt appears (a second prompt means it was refused: stdin is closed so sudo fails),
 * and forwards the rest of stderr, markers removed, to `stderr`.
 */
export function sudoHandshake(
  channel: ClientChannel,
  password: string,
  markers: SudoMarkers,
  stderr: (chunk: Buffer) => void,
  handshakeMs = SUDO_HANDSHAKE_MS,
): SudoHandshake {
  let preamble = '';
  let sent = 0;
  let done = false;
  let settle: (running: boolean) => void = () => undefined;
  const running = new Promise<boolean>((resolve) => {
    settle = resolve;
  });
  const flush = (text: string) => {
    if (text) stderr(Buffer.from(text, 'utf8'));
  };
  const onData = (chunk: Buffer) => {
    if (done) return stderr(chunk);
    preamble += chunk.toString('utf8');
    for (;;) {
      const at = preamble.indexOf(markers.prompt);
      if (at < 0) break;
      preamble = preamble.slice(0, at) + preamble.slice(at + markers.prompt.length);
      if (sent > 0) {
        // Asked again: the password was refused. EOF makes sudo give up instead of asking on.
        channel.end();
        continue;
      }
      channel.write(`${password}\n`);
      sent++;
    }
    const ready = preamble.indexOf(`${markers.ready}\n`);
    if (ready < 0) return;
    done = true;
    flush(preamble.slice(0, ready) + preamble.slice(ready + markers.ready.length + 1));
    preamble = '';
    settle(true);
  };
  channel.stderr.on('data', onData);
  // A sudo that neither shows our prompt nor starts the command (a PAM prompt of its own,
  // 2FA) would hold the command until its timeout: give up on it early, saying why.
  const deadline = setTimeout(() => {
    if (done) return;
    flush(
      `${preamble}sudo neither asked for the password with kubesmith's prompt nor started the command within ${handshakeMs / 1000} s (a PAM prompt kubesmith cannot answer?)\n`,
    );
    preamble = '';
    done = true;
    settle(false);
    channel.close();
  }, handshakeMs);
  deadline.unref();
  running.then(() => clearTimeout(deadline));
  channel.once('close', () => {
    if (!done) {
      done = true;
      flush(preamble);
      settle(false);
    }
  });
  return { running, passwordsSent: () => sent };
}
