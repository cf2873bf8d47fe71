import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { inventorySchema } from '../../../src/inventory/schema.js';
import { hostProbe, hostProbeSections, splitHttp } from '../../../src/verify/host-probes.js';

const raw = parse(
  readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'api', 'inventory.yaml'), 'utf8'),
);
const inventory = inventorySchema.parse(raw);
const host = (name: string) => inventory.hosts.find((h) => h.name === name)!;
const names = (sections: readonly (readonly [string, string])[]) => sections.map(([n]) => n);

describe('verify host probes', () => {
  it('asks each host what its roles run: nodes their services, masters also the control plane, one member etcd', () => {
    expect(names(hostProbeSections(host('vlab-4'), inventory, false))).toEqual([
      'units',
      'proxy',
      'balancer',
    ]);
    expect(names(hostProbeSections(host('vlab-1'), inventory, true))).toEqual([
      'units',
      'proxy',
      'balancer',
      'readyz',
      'controllermanager',
      'scheduler',
      'etcdhealth',
      'etcdstatus',
      'etcdmembers',
      'etcdalarms',
    ]);
    const master = hostProbe(host('vlab-1'), inventory, true).script;
    expect(master).toContain(
      'systemctl is-active containerd kubelet kube-proxy haproxy kube-apiserver kube-controller-manager kube-scheduler',
    );
    expect(master).toContain('https://10.77.98.11:6443/readyz?verbose');
    expect(master).toContain(
      '--endpoints=https://10.77.98.11:2379,https://10.77.98.12:2379,https://10.77.98.13:2379',
    );
  });

  it('without the local balancer (a control-plane endpoint) neither haproxy nor 127.0.0.1:6443 is asked', () => {
    const direct = inventorySchema.parse({
      ...raw,
      cluster: { ...raw.cluster, controlPlaneEndpoint: 'api.example.com:6443' },
    });
    const script = hostProbe(direct.hosts[3]!, direct, false).script;
    expect(script).not.toContain('haproxy');
    expect(script).not.toContain('127.0.0.1:6443');
  });

  it('reads curl answers as body and status; nothing answering is status 0', () => {
    expect(splitHttp('[+]ping ok\nreadyz check passed\n200\n')).toEqual({
      status: 200,
      body: '[+]ping ok\nreadyz check passed',
    });
    expect(splitHttp('\n000\n')).toEqual({ status: 0, body: '' });
    expect(splitHttp(undefined)).toEqual({ status: 0, body: '' });
  });
});
