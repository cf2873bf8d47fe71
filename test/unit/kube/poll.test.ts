import { describe, expect, it } from 'vitest';
import { InterruptedError } from '../../../src/errors.js';
import { pollUntil } from '../../../src/kube/poll.js';
import { KubeApiError } from '../../../src/kube/responses.js';

describe('pollUntil', () => {
  it('asks until done, and says false once the time is up', async () => {
    let calls = 0;
    expect(await pollUntil(async () => ++calls === 2, { timeoutMs: 5000 })).toBe(true);
    expect(calls).toBe(2);
    expect(await pollUntil(async () => false, { timeoutMs: 300 })).toBe(false);
  });

  it('asks again when the apiserver could not be reached or asked for a retry (429), and throws that error at the deadline', async () => {
    let calls = 0;
    const flaky = async () => {
      if (++calls === 1) throw new KubeApiError('GET /api/v1/nodes: socket hang up');
      return true;
    };
    expect(await pollUntil(flaky, { timeoutMs: 5000 })).toBe(true);
    let asked = 0;
    const shuttingDown = async () => {
      if (++asked === 1) throw new KubeApiError('GET /api/v1/nodes: HTTP 429 Too Many Requests', 429);
      return true;
    };
    expect(await pollUntil(shuttingDown, { timeoutMs: 5000 })).toBe(true);
    const down = async () => {
      throw new KubeApiError('GET /api/v1/nodes: socket hang up');
    };
    await expect(pollUntil(down, { timeoutMs: 300 })).rejects.toThrow('socket hang up');
  });

  it('throws at once what the apiserver refused, and stops when aborted', async () => {
    const forbidden = async () => {
      throw new KubeApiError('list the nodes: HTTP 403 Forbidden', 403);
    };
    await expect(pollUntil(forbidden, { timeoutMs: 60_000 })).rejects.toThrow('403');
    const started = Date.now();
    await expect(
      pollUntil(async () => false, { timeoutMs: 60_000, signal: AbortSignal.timeout(200) }),
    ).rejects.toBeInstanceOf(InterruptedError);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
