import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import type { CommandResource } from '../../../src/engine/resources.js';
import { redHatSecurity } from '../../../src/os/red-hat.js';
import { hostFacts } from '../../helpers/facts.js';

const rocky = hostFacts({ packageManager: 'dnf' }, { id: 'rocky', idLike: ['rhel', 'centos', 'fedora'] });
const both = { selinuxPermissive: true, stopFirewalld: true };

describe('Red Hat family: SELinux and firewalld', () => {
  it('only on the Red Hat family', () => {
    expect(redHatSecurity(hostFacts(), both)).toEqual([]);
    expect(redHatSecurity(rocky, both).map((r) => (r as CommandResource).title)).toEqual([
      'SELinux permissive',
      'firewalld off',
    ]);
  });

  it('counts as done only when the setting also survives a reboot', async () => {
    const [selinux, firewalld] = redHatSecurity(rocky, both) as CommandResource[];
    expect(selinux!.unless!.join(' ')).toContain('/etc/selinux/config');
    expect(firewalld!.unless!.join(' ')).toContain('is-enabled');
    for (const script of [selinux!.argv, selinux!.unless!, firewalld!.unless!].map((a) => a.at(-1)!))
      expect((await execa('sh', ['-n', '-c', script], { reject: false })).exitCode, script).toBe(0);
  });

  it('leaves either alone when told to', () => {
    expect(redHatSecurity(rocky, { selinuxPermissive: false, stopFirewalld: true })).toHaveLength(1);
    expect(redHatSecurity(rocky, { selinuxPermissive: false, stopFirewalld: false })).toEqual([]);
  });
});
