import { setMaxListeners } from 'node:events';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { ExitCode, InputError } from '../errors.js';
import { jsonRenderer } from '../render/json.js';
import { plainRenderer } from '../render/plain.js';
import type { Renderer } from '../render/renderer.js';
import { ttyRenderer } from '../render/tty.js';
import type { GlobalOptions } from './context.js';

export function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  // Every running remote command listens on this one signal: many hosts at once is normal.
  setMaxListeners(0, controller.signal);
  process.on('SIGINT', () => {
    if (controller.signal.aborted) process.exit(ExitCode.interrupted);
    process.stderr.write('\ninterrupting: finishing cleanly (Ctrl-C again to exit at once)\n');
    controller.abort();
  });
  return controller.signal;
}

export async function promptSecret(question: string): Promise<string> {
  if (!process.stdin.isTTY) throw new InputError('--ask-become-pass needs a terminal to ask on');
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const output = rl as unknown as { _writeToOutput: (s: string) => void };
  process.stderr.write(question);
  output._writeToOutput = () => undefined;
  const answer = await new Promise<string>((resolve) => rl.question('', resolve));
  rl.close();
  process.stderr.write('\n');
  return answer;
}

export const say = (line: string) => process.stderr.write(`${line}\n`);

/** Asks for a typed confirmation; without a terminal, --yes is the only way on. */
export async function confirm(question: string, expected: string): Promise<void> {
  if (!process.stdin.isTTY) throw new InputError('no terminal to confirm on: re-run with --yes to go ahead');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await new Promise<string>((resolve) => rl.question(question, resolve));
  rl.close();
  if (answer.trim() !== expected) throw new InputError('not confirmed: nothing was changed');
}

export function globals(command: Command): GlobalOptions & { askBecomePass?: boolean } {
  return command.optsWithGlobals();
}

export async function becomePassword(command: Command): Promise<string | undefined> {
  return globals(command).askBecomePass ? promptSecret('sudo password: ') : undefined;
}

/** Where a day-2 command's progress goes: stderr (stdout carries its result), or JSON lines on stdout. */
export function progress(cmd: Command): Renderer {
  const { output = 'auto', verbose } = globals(cmd);
  if (output === 'json') return jsonRenderer(process.stdout);
  // A terminal that reports no width (a fresh pty, a serial console) would get one character per line.
  const usableTerminal = process.stderr.isTTY && (process.stderr.columns ?? 0) > 0;
  if (output === 'plain' || (output === 'auto' && (!usableTerminal || process.env.CI)))
    return plainRenderer(process.stderr, { verbose });
  return ttyRenderer(process.stderr);
}
