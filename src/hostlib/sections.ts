import { randomBytes } from 'node:crypto';
import { sh } from '../transport/quote.js';

/** One part of a multi-section read: its name and the shell command whose output it holds. */
export type Section = readonly [name: string, command: string];

export interface SectionedRead {
  /** Shell text printing every section's output after a marker line of its own. */
  script: string;
  /** Each section's output exactly as its command printed it (a missing trailing newline stays missing). */
  parse(stdout: string): Map<string, string>;
}

const NAME = /^[a-z][a-z0-9]*$/;
const END = 'end';

/**
 * Several files and command outputs in one remote command. Each marker is printed after a
 * newline of its own (so a file without a trailing newline cannot glue its last line to
 * the marker) and carries a random nonce (so no file content can pass for a marker).
 */
export function sectionedRead(
  sections: readonly Section[],
  nonce = randomBytes(8).toString('hex'),
): SectionedRead {
  for (const [name] of sections) {
    if (!NAME.test(name) || name === END) throw new Error(`bad section name '${name}'`);
  }
  const marker = (name: string) => `@@${nonce}:${name}`;
  const line = (name: string) => sh`printf '\n%s\n' ${marker(name)}`;
  const script = [...sections.flatMap(([name, command]) => [line(name), command]), line(END)].join('\n');
  const split = new RegExp(`\\n@@${nonce}:([a-z][a-z0-9]*)\\n`);
  return {
    script,
    parse(stdout) {
      const parts = stdout.split(split);
      const out = new Map<string, string>();
      // parts: [before the first marker, name, content, name, content, ...]
      for (let i = 1; i + 1 < parts.length; i += 2) {
        const name = parts[i]!;
        if (name !== END) out.set(name, parts[i + 1]!);
      }
      return out;
    },
  };
}
