import { describe, expect, it } from 'vitest';
import { withHostsBlock, withoutSwap } from '../../../src/os/files.js';

describe('/etc/hosts block', () => {
  const entries = [
    { address: '10.0.0.1', names: ['m1'] },
    { address: '10.0.0.2', names: ['w1'] },
  ];

  it('adds the block and keeps the other lines', () => {
    const out = withHostsBlock('127.0.0.1 localhost\n192.168.9.9 printer\n', entries);
    expect(out).toBe(
      '127.0.0.1 localhost\n192.168.9.9 printer\n# BEGIN kubesmith managed block: cluster hosts\n10.0.0.1 m1\n10.0.0.2 w1\n# END kubesmith managed block\n',
    );
  });

  it('replaces its own block and is stable on a second pass', () => {
    const once = withHostsBlock('127.0.0.1 localhost\n', entries);
    expect(withHostsBlock(once, entries)).toBe(once);
    const changed = withHostsBlock(once, [entries[0]!]);
    expect(changed).not.toContain('w1');
    expect(changed.match(/BEGIN kubesmith/g)).toHaveLength(1);
  });
});

describe('fstab without swap', () => {
  it('comments out active swap lines only', () => {
    const fstab = 'UUID=1 / ext4 defaults 0 1\n/swapfile none swap sw 0 0\n# /old none swap sw 0 0\n';
    expect(withoutSwap(fstab)).toBe(
      'UUID=1 / ext4 defaults 0 1\n#kubesmith: swap off# /swapfile none swap sw 0 0\n# /old none swap sw 0 0\n',
    );
  });

  it('says there is nothing to do when there is no swap', () => {
    expect(withoutSwap('UUID=1 / ext4 defaults 0 1\n')).toBeUndefined();
  });
});
