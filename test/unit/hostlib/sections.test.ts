import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { sectionedRead } from '../../../src/hostlib/sections.js';

/** Runs the read's script with a local sh, as a host would. */
async function runLocally(script: string): Promise<string> {
  return (await execa('sh', ['-c', script], { stripFinalNewline: false })).stdout;
}

describe('sectioned read', () => {
  it('keeps each output exact when a file has no trailing newline, and never glues a marker to it', async () => {
    const read = sectionedRead([
      ['hosts', "printf '127.0.0.1 localhost\\n10.0.0.9 db'"],
      ['fstab', "printf 'UUID=1 / ext4 defaults 0 1\\n/swapfile none swap sw 0 0'"],
      ['empty', 'true'],
      ['last', "printf 'with newline\\n'"],
    ]);
    const sections = read.parse(await runLocally(read.script));
    expect(sections.get('hosts')).toBe('127.0.0.1 localhost\n10.0.0.9 db');
    expect(sections.get('fstab')).toBe('UUID=1 / ext4 defaults 0 1\n/swapfile none swap sw 0 0');
    expect(sections.get('empty')).toBe('');
    expect(sections.get('last')).toBe('with newline\n');
  });

  it('is not fooled by content that looks like a marker', async () => {
    const read = sectionedRead([
      ['hosts', "printf '@@fstab\\n@@other:fstab\\nx\\n'"],
      ['fstab', "printf 'real\\n'"],
    ]);
    const sections = read.parse(await runLocally(read.script));
    expect(sections.get('hosts')).toBe('@@fstab\n@@other:fstab\nx\n');
    expect(sections.get('fstab')).toBe('real\n');
  });

  it('uses a new random marker for each read', () => {
    const a = sectionedRead([['x', 'true']]).script;
    const b = sectionedRead([['x', 'true']]).script;
    expect(a).not.toBe(b);
  });
});
