import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseInventory } from '../../../src/inventory/load.js';
import { KnownHosts } from '../../../src/transport/known-hosts.js';
import { sshTargetFor } from '../../../src/transport/targets.js';

describe('how a host is reached', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ks-targets-'));
  writeFileSync(join(dir, 'key'), 'k');
  const config = join(dir, 'ssh_config');
  writeFileSync(
    config,
    [
      'Host m1',
      '  HostName 203.0.113.7',
      '  User ops',
      '  Port 2200',
      '  IdentityFile /keys/m1',
      '',
      'Host *',
      '  User everyone',
      '',
    ].join('\n'),
  );
  const knownHosts = new KnownHosts(join(dir, 'known_hosts'));

  it('takes ~/.ssh/config for the host name where the inventory says nothing', async () => {
    const loaded = await parseInventory(
      `cluster: { name: c }\nssh: { identityFile: ${join(dir, 'key')} }\nhosts:\n  - { name: m1, address: 10.0.0.1, roles: [etcd, master] }\n`,
      join(dir, 'inv.yaml'),
    );
    const t = sshTargetFor(loaded, loaded.inventory.hosts[0]!, { knownHosts, sshConfigFile: config });
    expect(t).toMatchObject({
      address: '203.0.113.7',
      user: 'ops',
      port: 2200,
      identityFile: join(dir, 'key'),
    });
  });

  it('lets the inventory win: the host block first, then cluster keys the user wrote', async () => {
    const text = `cluster: { name: c }\nssh: { user: admin, identityFile: ${join(dir, 'key')} }\nhosts:\n  - { name: m1, address: 10.0.0.1, roles: [etcd, master], ssh: { port: 22 } }\n`;
    const loaded = await parseInventory(text, join(dir, 'inv.yaml'));
    const t = sshTargetFor(loaded, loaded.inventory.hosts[0]!, { knownHosts, sshConfigFile: config });
    expect(t).toMatchObject({ user: 'admin', port: 22 });
  });
});
