import { describe, expect, it } from 'vitest';
import { localToolRefusal } from '../../../src/etcd/local-tool.js';

describe("etcd's tool on the deploy machine", () => {
  it('says clearly that a macOS or Windows deploy machine cannot run it', () => {
    expect(localToolRefusal('darwin', 'arm64')).toMatch(
      /Linux tool .* this one runs darwin; run backup and restore from a Linux machine/,
    );
    expect(localToolRefusal('win32', 'x64')).toMatch(/runs win32/);
  });

  it('runs on Linux amd64 and arm64 only', () => {
    expect(localToolRefusal('linux', 'x64')).toBeUndefined();
    expect(localToolRefusal('linux', 'arm64')).toBeUndefined();
    expect(localToolRefusal('linux', 'riscv64')).toMatch(/not riscv64/);
  });
});
