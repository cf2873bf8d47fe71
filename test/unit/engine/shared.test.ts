import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { once, oneAtATime } from '../../../src/engine/shared.js';

describe('run-wide sharing between hosts', () => {
  it('once runs its work a single time for every caller', async () => {
    const shared = new Map<string, unknown>();
    let runs = 0;
    const work = () => once(shared, 'k', async () => ++runs);
    expect(await Promise.all([work(), work(), work()])).toEqual([1, 1, 1]);
  });

  it('oneAtATime runs turns one after another, never two at once', async () => {
    const shared = new Map<string, unknown>();
    let running = 0;
    let most = 0;
    const order: string[] = [];
    await Promise.all(
      ['h1', 'h2', 'h3'].map((host) =>
        oneAtATime(shared, 'restart', host, async () => {
          most = Math.max(most, ++running);
          await sleep(20);
          order.push(host);
          running--;
        }),
      ),
    );
    expect(most).toBe(1);
    expect(order).toEqual(['h1', 'h2', 'h3']);
  });

  it('a failed turn stops the queue: later turns do not run and name the host that failed', async () => {
    const shared = new Map<string, unknown>();
    const ran: string[] = [];
    const turn = (host: string, fail = false) =>
      oneAtATime(shared, 'etcd-restart', host, async () => {
        ran.push(host);
        if (fail) throw new Error(`${host} did not become healthy`);
      });
    const results = await Promise.allSettled([turn('e1', true), turn('e2'), turn('e3')]);
    expect(ran).toEqual(['e1']);
    expect(results[0]).toMatchObject({
      status: 'rejected',
      reason: { message: 'e1 did not become healthy' },
    });
    for (const [i, host] of [[1, 'e2'] as const, [2, 'e3'] as const]) {
      expect(results[i]?.status).toBe('rejected');
      expect((results[i] as PromiseRejectedResult).reason.message).toBe(
        `${host}: not restarted: e1 failed first`,
      );
    }
    // A turn queued later in the same run is refused too.
    await expect(turn('e4')).rejects.toThrow('not restarted: e1 failed first');
    expect(ran).toEqual(['e1']);
  });

  it('queues with other keys are not stopped by a failure', async () => {
    const shared = new Map<string, unknown>();
    await expect(
      oneAtATime(shared, 'a', 'h1', async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await expect(oneAtATime(shared, 'b', 'h2', async () => 'ran')).resolves.toBe('ran');
  });
});
