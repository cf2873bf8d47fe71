import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { commandLine, quote, sh } from '../../../src/transport/quote.js';

const echoBack = (line: string) => execFileSync('sh', ['-c', `printf '%s\\n' ${line}`], { encoding: 'utf8' });

describe('quoting', () => {
  const nasty = ["a'b", '$(id)', '`id`', 'x;y', 'a b', '"', '\\', '*', '\n', '', '-n', 'ü'];

  it.each(nasty)('a shell gets %j back as one word', (value) => {
    expect(echoBack(quote(value))).toBe(`${value}\n`);
  });

  it('leaves plain words bare', () => {
    expect(commandLine(['systemctl', 'restart', 'etcd.service'])).toBe('systemctl restart etcd.service');
  });

  it('quotes interpolated values and arrays in sh``', () => {
    const path = "/tmp/it's here";
    expect(sh`test -e ${path} && ${['echo', 'a b']}`).toBe(`test -e '/tmp/it'"'"'s here' && echo 'a b'`);
    expect(sh`echo ${3}`).toBe('echo 3');
  });

  it('refuses an empty command', () => {
    expect(() => commandLine([])).toThrow();
  });
});
