import { describe, expect, it } from 'vitest';
import type { CommandResource } from '../../../src/engine/resources.js';
import type { HostFacts } from '../../../src/facts.js';
import { inventorySchema } from '../../../src/inventory/schema.js';
import {
  ELREPO_REPO_FILE,
  elrepoRepoFile,
  kernelSource,
  kernelUpgradeResources,
  nextBootKernelScript,
} from '../../../src/os/kernel-upgrade.js';
import { hostFindings } from '../../../src/preflight.js';
import { hostFacts } from '../../helpers/facts.js';

const host = (os: Partial<HostFacts['os']>, extra: Partial<HostFacts> = {}): HostFacts =>
  hostFacts(extra, { prettyName: 'a host', ...os });

const rocky9 = host(
  { id: 'rocky', idLike: ['rhel', 'centos', 'fedora'], versionId: '9.4' },
  { packageManager: 'dnf' },
);
const centos7 = host(
  { id: 'centos', idLike: ['rhel', 'fedora'], versionId: '7', codename: '' },
  { packageManager: 'yum', kernel: '3.10.0-1160.el7.x86_64', cgroupVersion: 1 },
);

describe('prepare.kernelUpgrade', () => {
  it('knows each family’s long-term kernel and refuses what it cannot upgrade', () => {
    expect(kernelSource(rocky9)).toEqual({ family: 'el', major: 9, manager: 'dnf' });
    expect(kernelSource(centos7)).toEqual({ family: 'el', major: 7, manager: 'yum' });
    expect(kernelSource(host({ id: 'ubuntu', versionId: '22.04', codename: 'jammy' }))).toEqual({
      family: 'ubuntu',
      versionId: '22.04',
    });
    expect(kernelSource(host({}, { arch: 'aarch64' }))).toEqual({
      family: 'debian',
      codename: 'bookworm',
      arch: 'arm64',
    });
    expect(kernelSource(host({}, { container: 'systemd-nspawn' }))).toEqual({
      refused: expect.stringMatching(/container \(systemd-nspawn\).*enabled: false/),
    });
    expect(kernelSource(host({ id: 'opensuse-leap', prettyName: 'openSUSE Leap 15.6' }))).toEqual({
      refused: expect.stringMatching(/no long-term kernel source known for openSUSE Leap 15.6/),
    });
  });

  it('writes ELRepo’s kernel repository, disabled, from elrepo.org or a mirror', () => {
    const official = elrepoRepoFile(9);
    expect(official).toContain('baseurl=https://elrepo.org/linux/kernel/el9/$basearch/');
    expect(official).toContain('enabled=0');
    expect(official).toContain(
      'gpgkey=https://www.elrepo.org/RPM-GPG-KEY-elrepo.org https://www.elrepo.org/RPM-GPG-KEY-v2-elrepo.org',
    );
    const mirrored = elrepoRepoFile(8, 'https://mirrors.example.cn/elrepo/');
    expect(mirrored).toContain('baseurl=https://mirrors.example.cn/elrepo/kernel/el8/$basearch/');
    // The key never comes from the mirror that serves the packages.
    expect(mirrored).toContain('gpgkey=https://www.elrepo.org/RPM-GPG-KEY-elrepo.org');
  });

  it('installs kernel-lt through that repository only, guarded, and makes it the default', () => {
    const source = kernelSource(centos7);
    if ('refused' in source) throw new Error(source.refused);
    const [repo, install, boot] = kernelUpgradeResources(source);
    expect(repo).toMatchObject({ kind: 'file', path: ELREPO_REPO_FILE });
    expect(install).toMatchObject({
      argv: ['yum', '--enablerepo=kubesmith-elrepo-kernel', '-y', 'install', 'kernel-lt'],
      unless: ['rpm', '-q', 'kernel-lt'],
    });
    expect((boot as CommandResource).argv.join(' ')).toContain('grubby --set-default');
    expect(nextBootKernelScript(source)).toContain('grubby --default-kernel');
  });

  it('takes Debian’s kernel from backports and says how to add them', () => {
    const [install] = kernelUpgradeResources({ family: 'debian', codename: 'bookworm', arch: 'amd64' });
    expect((install as CommandResource).argv).toEqual([
      'env',
      'DEBIAN_FRONTEND=noninteractive',
      'apt-get',
      '-o',
      'DPkg::Lock::Timeout=300',
      'install',
      '-y',
      '-q',
      '-t',
      'bookworm-backports',
      'linux-image-amd64',
    ]);
    expect((install as CommandResource).hint).toMatch(/add bookworm-backports/);
  });

  it('preflight: blocks it inside containers; lets an old kernel through when it will be replaced', () => {
    const inventory = (enabled: boolean) =>
      inventorySchema.parse({
        cluster: { name: 'c', kubernetesVersion: '1.34.3' },
        prepare: { kernelUpgrade: { enabled } },
        hosts: [{ name: 'm1', address: '10.0.0.1', roles: ['etcd', 'master'] }],
      });
    const findings = (f: HostFacts, enabled: boolean) =>
      hostFindings(inventory(enabled).hosts[0]!, f, inventory(enabled), 'c').map(
        (x) => `${x.severity}: ${x.message}`,
      );
    expect(findings(host({}, { container: 'systemd-nspawn' }), true).join('\n')).toMatch(
      /block: prepare.kernelUpgrade: runs in a container/,
    );
    // EL 8 ships 4.18: below Kubernetes' minimum until kernel-lt replaces it.
    const rocky8 = host(
      { id: 'rocky', idLike: ['rhel', 'centos', 'fedora'], versionId: '8.10' },
      { packageManager: 'dnf', kernel: '4.18.0-553.el8_10.x86_64' },
    );
    expect(findings(rocky8, false).join('\n')).toMatch(
      /block: kernel 4.18.0.* set prepare.kernelUpgrade.enabled: true/,
    );
    expect(findings(rocky8, true).join('\n')).toMatch(
      /warn: kernel 4.18.0.* prepare.kernelUpgrade replaces it/,
    );
    expect(findings(rocky8, true).filter((f) => f.startsWith('block'))).toEqual([]);
  });
});
