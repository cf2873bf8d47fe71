import type { Resource } from '../engine/resources.js';
import type { HostFacts } from '../facts.js';

const RED_HAT_FAMILY = ['rhel', 'centos', 'rocky', 'almalinux', 'fedora', 'ol'];

export function isRedHatFamily(facts: HostFacts): boolean {
  return RED_HAT_FAMILY.some((id) => facts.os.id === id || facts.os.idLike.includes(id));
}

/**
 * SELinux permissive (now and after reboots) and firewalld stopped and disabled, as kubeasz
 * does on the Red Hat family; each can be left alone (prepare.selinuxPermissive,
 * prepare.stopFirewalld: false) by sites whose policy or rules allow Kubernetes' traffic.
 */
export function redHatSecurity(
  facts: HostFacts,
  options: { selinuxPermissive: boolean; stopFirewalld: boolean },
): Resource[] {
  if (!isRedHatFamily(facts)) return [];
  const resources: Resource[] = [];
  if (options.selinuxPermissive)
    resources.push({
      kind: 'command',
      title: 'SELinux permissive',
      argv: [
        'sh',
        '-c',
        "setenforce 0 2>/dev/null; sed -i 's/^SELINUX=enforcing/SELINUX=permissive/' /etc/selinux/config",
      ],
      // Done when neither the running mode nor the mode at next boot is enforcing.
      unless: [
        'sh',
        '-c',
        '! command -v getenforce >/dev/null || { [ "$(getenforce)" != Enforcing ] && ! grep -q "^SELINUX=enforcing" /etc/selinux/config; }',
      ],
    });
  if (options.stopFirewalld)
    resources.push({
      kind: 'command',
      title: 'firewalld off',
      argv: ['systemctl', 'disable', '--now', 'firewalld'],
      // Done when it neither runs now nor would start at boot.
      unless: ['sh', '-c', '! systemctl is-active -q firewalld && ! systemctl is-enabled -q firewalld'],
    });
  return resources;
}
