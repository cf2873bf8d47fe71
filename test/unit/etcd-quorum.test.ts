import { describe, expect, it } from 'vitest';
import { quorum, removalRefusal } from '../../src/etcd/quorum.js';

const check = (members: string[], sick: string[], remove: string[], force = false) =>
  removalRefusal({ members, healthy: new Set(members.filter((m) => !sick.includes(m))), remove, force });

describe('etcd quorum guard', () => {
  it('knows quorum sizes', () => {
    expect([1, 2, 3, 4, 5, 7].map(quorum)).toEqual([1, 2, 2, 3, 3, 4]);
  });

  it('allows 5 -> 3 when all are healthy', () => {
    expect(check(['a', 'b', 'c', 'd', 'e'], [], ['d', 'e'])).toBeUndefined();
  });

  it('refuses removing a healthy member of 3 while another is down', () => {
    expect(check(['a', 'b', 'c'], ['c'], ['a'], true)).toMatch(
      /would break quorum: 2 member\(s\) would remain, 1 healthy, 2 needed \(unhealthy now: c/,
    );
  });

  it('allows removing the member that is down', () => {
    expect(check(['a', 'b', 'c'], ['c'], ['c'], true)).toBeUndefined();
  });

  it('refuses removing the last member', () => {
    expect(check(['a'], [], ['a'], true)).toMatch(/no etcd member/);
  });

  it('refuses an even end count unless forced', () => {
    expect(check(['a', 'b', 'c'], [], ['c'])).toMatch(/even count/);
    expect(check(['a', 'b', 'c'], [], ['c'], true)).toBeUndefined();
  });

  it('names hosts that are not members', () => {
    expect(check(['a', 'b', 'c'], [], ['x'])).toMatch(/x is not an etcd member/);
  });
});
