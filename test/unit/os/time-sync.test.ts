import { describe, expect, it } from 'vitest';
import type { FileResource, ServiceResource } from '../../../src/engine/resources.js';
import type { HostFacts } from '../../../src/facts.js';
import { CHRONY, timeSync } from '../../../src/os/time-sync.js';

const facts = (packageManager: HostFacts['packageManager'], container = ''): HostFacts =>
  ({ packageManager, container, os: { prettyName: 'a host' } }) as HostFacts;
const servers = ['ntp1.example.cn', '10.0.0.5'];
const noLog = () => undefined;

// The shape of an EL 9 chrony.conf as the package installs it (abridged).
const EL_DEFAULT =
  'pool 2.rocky.pool.ntp.org iburst\nsourcedir /run/chrony-dhcp\ndriftfile /var/lib/chrony/drift\nmakestep 1.0 3\nrtcsync\n';

describe('prepare.ntpServers: chrony per OS family', () => {
  it('Debian: a sources.d file and the chrony unit', () => {
    const resources = timeSync(servers, facts('apt'), '', noLog);
    const file = resources.find((r): r is FileResource => r.kind === 'file')!;
    expect(file.path).toBe(CHRONY.debianSources);
    expect(file.content).toContain('server ntp1.example.cn iburst\nserver 10.0.0.5 iburst');
    expect(resources.find((r): r is ServiceResource => r.kind === 'service')).toMatchObject({
      name: 'chrony',
      restartOn: [CHRONY.debianSources],
    });
  });

  it('EL: a managed block in chrony.conf, everything else kept, the chronyd unit', () => {
    const resources = timeSync(servers, facts('dnf'), EL_DEFAULT, noLog);
    const file = resources.find((r): r is FileResource => r.kind === 'file')!;
    expect(file.path).toBe(CHRONY.elConf);
    const text = file.content as string;
    expect(text.startsWith(EL_DEFAULT)).toBe(true);
    expect(text).toContain(
      'server ntp1.example.cn iburst\nserver 10.0.0.5 iburst\n# END kubesmith managed block',
    );
    expect(timeSync(servers, facts('dnf'), text, noLog).find((r) => r.kind === 'file')).toMatchObject({
      content: text,
    });
    expect(resources.find((r) => r.kind === 'command')).toMatchObject({
      argv: ['dnf', 'install', '-y', 'chrony'],
    });
    expect(resources.find((r): r is ServiceResource => r.kind === 'service')?.name).toBe('chronyd');
  });

  it('EL before chrony is installed: a whole config whose block later runs update in place', () => {
    const fresh = timeSync(servers, facts('yum'), '', noLog).find(
      (r): r is FileResource => r.kind === 'file',
    )!;
    const text = fresh.content as string;
    expect(text).toContain('driftfile /var/lib/chrony/drift');
    const again = timeSync(['ntp2.example.cn'], facts('yum'), text, noLog).find(
      (r): r is FileResource => r.kind === 'file',
    )!;
    expect((again.content as string).match(/^server /gm)).toEqual(['server ']);
  });

  it('inside a container: configured, not started, and said so', () => {
    const said: string[] = [];
    const resources = timeSync(servers, facts('apt', 'systemd-nspawn'), '', (m) => said.push(m));
    expect(resources.some((r) => r.kind === 'service')).toBe(false);
    expect(said.join()).toMatch(/not started/);
  });
});
