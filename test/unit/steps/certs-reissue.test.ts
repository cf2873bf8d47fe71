import { X509Certificate } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renewPlan } from '../../../src/certs/renew-plan.js';
import type { RunContext } from '../../../src/engine/step.js';
import { kubernetesPki } from '../../../src/hostlib/kubernetes-pki.js';
import { inventorySchema } from '../../../src/inventory/schema.js';
import { reissueLeaves } from '../../../src/steps/certs-reissue.js';

const inventory = inventorySchema.parse({
  cluster: { name: 'c' },
  hosts: [
    { name: 'm1', address: '10.0.0.1', roles: ['etcd', 'master'] },
    { name: 'n1', address: '10.0.0.2', roles: ['node'] },
  ],
});

function runContext(): RunContext {
  return {
    inventory,
    inventoryFile: '/dev/null',
    clusterDir: mkdtempSync(join(tmpdir(), 'ks-reissue-')),
    dryRun: false,
    signal: new AbortController().signal,
    shared: new Map(),
    log: () => undefined,
  };
}
const serial = (pem: string) => new X509Certificate(pem).serialNumber;

describe('certs-reissue', () => {
  it('reissues every planned leaf and makes the later steps of the run read the new ones, CAs kept', async () => {
    const ctx = runContext();
    const before = (await kubernetesPki(ctx)).pki;
    const changes = await reissueLeaves(ctx, new Set(renewPlan(inventory).leaves));
    expect(changes.map((c) => c.id).sort()).toEqual([...renewPlan(inventory).leaves].sort());
    expect(changes.every((c) => c.action === 'reissued' && c.reason === 'renewal requested')).toBe(true);
    // The same run asks again (as kube-master and kube-node do after this phase): the new certs.
    const after = (await kubernetesPki(ctx)).pki;
    expect(serial(after.get('apiserver').certPem)).not.toBe(serial(before.get('apiserver').certPem));
    expect(serial(after.get('kubelet/n1-client').certPem)).not.toBe(
      serial(before.get('kubelet/n1-client').certPem),
    );
    expect(serial(after.get('ca').certPem)).toBe(serial(before.get('ca').certPem));
    expect(after.serviceAccount.privatePem).toBe(before.serviceAccount.privatePem);
  });
});
