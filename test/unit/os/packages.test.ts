import { describe, expect, it } from 'vitest';
import { installCommand } from '../../../src/os/packages.js';

describe('package installs', () => {
  it('apt-get waits (bounded) for the dpkg lock that unattended-upgrades holds on a fresh host', () => {
    expect(installCommand('apt', ['socat', 'conntrack'])).toEqual([
      'env',
      'DEBIAN_FRONTEND=noninteractive',
      'apt-get',
      '-o',
      'DPkg::Lock::Timeout=300',
      'install',
      '-y',
      '-q',
      'socat',
      'conntrack',
    ]);
  });

  it('dnf and yum install as they are; no package manager says so', () => {
    expect(installCommand('dnf', ['socat'])).toEqual(['dnf', 'install', '-y', 'socat']);
    expect(installCommand('none', ['socat']).join(' ')).toMatch(/no apt-get, dnf or yum/);
  });
});
