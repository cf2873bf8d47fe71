import { describe, expect, it } from 'vitest';
import type { StepContext } from '../../../src/engine/step.js';
import { inventorySchema } from '../../../src/inventory/schema.js';
import { etcd } from '../../../src/steps/etcd.js';

const v6 = inventorySchema.parse({
  cluster: { name: 'six' },
  hosts: [
    { name: 'e1', address: 'fd00::1', roles: ['etcd', 'master'] },
    { name: 'e2', address: 'fd00::2', roles: ['etcd', 'master'] },
    { name: 'e3', address: 'fd00::3', roles: ['etcd', 'master'] },
  ],
});

/** A context whose one read answers with these sections, framed as sectionedRead frames them. */
function ctxAnswering(health: string, members: string, logs: string[]): StepContext {
  return {
    inventory: v6,
    host: v6.hosts[0]!,
    shared: new Map(),
    log: (m: string) => logs.push(m),
    read: async (argv: readonly string[]) => {
      const nonce = String(argv[2]).match(/@@([0-9a-f]+):/)![1];
      const frame = (name: string, text: string) => `\n@@${nonce}:${name}\n${text}`;
      return {
        stdout: `${frame('health', health)}${frame('members', members)}\n@@${nonce}:end\n`,
        stderr: '',
        exitCode: 0,
      };
    },
  } as unknown as StepContext;
}

const health = (ok: boolean[]) =>
  JSON.stringify(ok.map((h, i) => ({ endpoint: `https://[fd00::${i + 1}]:2379`, health: h, took: '1ms' })));
/** As etcd prints it: uint64 IDs that a JavaScript number cannot hold. */
const members = (ids: number[]) =>
  `{"header":{"cluster_id":17237436991929493087,"member_id":9372538179322589801},"members":[${ids
    .map(
      (i) =>
        `{"ID":1027665774393297500${i},"name":"e${i}","peerURLs":["https://[fd00::${i}]:2380"],"clientURLs":["https://[fd00::${i}]:2379"]}`,
    )
    .join(',')}]}`;

describe('etcd verify: one sectioned read, IPv6 peer URLs bracketed', () => {
  it('accepts a healthy IPv6 cluster whose member list ends without a newline', async () => {
    const logs: string[] = [];
    await etcd.verify!(ctxAnswering(health([true, true, true]), members([1, 2, 3]), logs));
    expect(logs).toEqual(['etcd healthy: 3 members, client port 2379']);
  });

  it('names the unhealthy member by its bracketed client URL', async () => {
    await expect(
      etcd.verify!(ctxAnswering(health([true, false, true]), members([1, 2, 3]), [])),
    ).rejects.toThrow('etcd members not healthy: https://[fd00::2]:2379');
  });

  it('refuses a member list that differs from the inventory', async () => {
    await expect(etcd.verify!(ctxAnswering(health([true, true, true]), members([1, 2]), []))).rejects.toThrow(
      /differs from the inventory: .*inventory wants \[e1 https:\/\/\[fd00::1\]:2380/,
    );
  });
});
