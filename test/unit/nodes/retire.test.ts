import { describe, expect, it } from 'vitest';
import { leftovers, restoreScript } from '../../../src/nodes/retire.js';

describe('a leaving worker: what is left once its services stopped', () => {
  it('mounts under the runtime and kubelet (deepest first), our interfaces, our chains per family', () => {
    const sections = new Map([
      [
        'mounts',
        JSON.stringify({
          filesystems: [
            { target: '/' },
            { target: '/var/lib/kubelet/pods/x/volumes/kubernetes.io~projected/kube-api-access' },
            { target: '/run/containerd/io.containerd.runtime.v2.task/k8s.io/abc/rootfs' },
            { target: '/var/lib/kubeletx' },
            { target: '/var/lib/containerd' },
            { target: '/run/netns' },
            { target: '/run/netns/cni-1' },
            { target: '/run/netns/vpn' },
          ],
        }),
      ],
      [
        'links',
        JSON.stringify([
          { ifname: 'lo' },
          { ifname: 'host0' },
          { ifname: 'cni0' },
          { ifname: 'flannel.1' },
          { ifname: 'cali123' },
        ]),
      ],
      ['ipv4', '*filter\n:INPUT ACCEPT [0:0]\n:KUBE-FIREWALL - [0:0]\n-A INPUT -j KUBE-FIREWALL\nCOMMIT\n'],
      ['ipv6', '*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n'],
    ]);
    const left = leftovers(sections);
    expect(left.mounts).toEqual([
      '/var/lib/kubelet/pods/x/volumes/kubernetes.io~projected/kube-api-access',
      '/run/containerd/io.containerd.runtime.v2.task/k8s.io/abc/rootfs',
      '/run/netns/cni-1',
    ]);
    expect(left.links).toEqual(['cni0', 'flannel.1', 'cali123']);
    expect(left.rules).toEqual([
      {
        tool: 'iptables-restore',
        text: '*filter\n-D INPUT -j KUBE-FIREWALL\n-F KUBE-FIREWALL\n-X KUBE-FIREWALL\nCOMMIT\n',
        removed: 2,
      },
    ]);
  });

  it('the ruleset goes through a here-document its content cannot end early', () => {
    const script = restoreScript('iptables-restore', '*filter\nCOMMIT');
    const end = script.split('\n').at(-1)!;
    expect(script).toBe(`iptables-restore --noflush <<'${end}'\n*filter\nCOMMIT\n${end}`);
    expect(end).toMatch(/^KUBESMITH_RULES_[0-9a-f]{16}$/);
  });
});
