import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { apiserverFlags } from '../../../../src/components/kubernetes/apiserver.js';
import { controllerManagerFlags } from '../../../../src/components/kubernetes/controller-manager.js';
import {
  renderAuditPolicy,
  renderEncryptionConfig,
} from '../../../../src/components/kubernetes/encryption.js';
import { renderHaproxyConfig } from '../../../../src/components/kubernetes/haproxy.js';
import { kubernetesHostFiles } from '../../../../src/components/kubernetes/host-files.js';
import { renderKubeProxyConfig } from '../../../../src/components/kubernetes/kube-proxy.js';
import { renderKubeletConfig } from '../../../../src/components/kubernetes/kubelet.js';
import { renderSchedulerConfig } from '../../../../src/components/kubernetes/scheduler.js';
import { inventorySchema } from '../../../../src/inventory/schema.js';
import { generateEncryptionKey } from '../../../../src/pki/encryption-key.js';
import { clusterCerts } from '../../../../src/pki/kubernetes-spec.js';
import { ensurePki } from '../../../../src/pki/store.js';
import { inventory } from './fixture.js';

const inv = inventory({
  network: { podCidr: '10.244.0.0/16', nodeCidrMaskSize: 25, nodePortRange: '31000-32000' },
});
const m1 = inv.hosts[0]!;
const w1 = inv.hosts[3]!;
const flag = (flags: string[], name: string) =>
  flags.find((f) => f.startsWith(`${name}=`))?.slice(name.length + 1);

describe('control-plane flags', () => {
  it('binds the apiserver to the host and takes ranges from the inventory', () => {
    const flags = apiserverFlags('1.36.1', m1, inv);
    expect(flag(flags, '--bind-address')).toBe('10.0.0.1');
    expect(flag(flags, '--secure-port')).toBe('6443');
    expect(flag(flags, '--service-cluster-ip-range')).toBe('10.68.0.0/16');
    expect(flag(flags, '--service-node-port-range')).toBe('31000-32000');
    expect(flag(flags, '--authorization-mode')).toBe('Node,RBAC');
    expect(flag(flags, '--enable-admission-plugins')?.split(',')).toContain('NodeRestriction');
    expect(flag(flags, '--service-account-issuer')).toBe('https://kubernetes.default.svc.cluster.local');
  });

  it('gives the controller manager the pod CIDR and node mask', () => {
    const flags = controllerManagerFlags('1.36.1', inv);
    expect(flag(flags, '--allocate-node-cidrs')).toBe('true');
    expect(flag(flags, '--cluster-cidr')).toBe('10.244.0.0/16');
    expect(flag(flags, '--node-cidr-mask-size')).toBe('25');
    expect(flag(flags, '--secure-port')).toBe('10257');
    expect(flag(flags, '--use-service-account-credentials')).toBe('true');
  });
});

describe('config files', () => {
  it('parse with their kind and apiVersion', () => {
    const key = generateEncryptionKey();
    const docs: [string, string, string][] = [
      [renderEncryptionConfig(key), 'EncryptionConfiguration', 'apiserver.config.k8s.io/v1'],
      [renderAuditPolicy(), 'Policy', 'audit.k8s.io/v1'],
      [renderSchedulerConfig(), 'KubeSchedulerConfiguration', 'kubescheduler.config.k8s.io/v1'],
      [
        renderKubeletConfig('1.36.1', w1, inv, { cgroupV1: false }),
        'KubeletConfiguration',
        'kubelet.config.k8s.io/v1beta1',
      ],
      [renderKubeProxyConfig(w1, inv), 'KubeProxyConfiguration', 'kubeproxy.config.k8s.io/v1alpha1'],
    ];
    for (const [text, kind, apiVersion] of docs) expect(parse(text)).toMatchObject({ kind, apiVersion });
  });

  it('encrypts Secrets with the given key first and still reads unencrypted ones', () => {
    const key = generateEncryptionKey();
    const config = parse(renderEncryptionConfig(key, 'aescbc'));
    expect(config.resources[0].resources).toEqual(['secrets']);
    expect(config.resources[0].providers).toEqual([
      { aescbc: { keys: [{ name: 'kubesmith-1', secret: key.toString('base64') }] } },
      { identity: {} },
    ]);
    expect(Object.keys(parse(renderEncryptionConfig(key)).resources[0].providers[0])).toEqual(['secretbox']);
  });

  it('refuses a key of the wrong size without showing it', () => {
    const short = Buffer.from('0123456789abcdef');
    expect(() => renderEncryptionConfig(short)).toThrow('encryption key: 16 bytes, wanted 32');
    try {
      renderEncryptionConfig(short);
    } catch (error) {
      expect(String(error)).not.toContain(short.toString('base64'));
    }
  });

  it('audits Secrets at Metadata level only', () => {
    const policy = parse(renderAuditPolicy());
    const secretRule = policy.rules.find((r: { resources?: { resources: string[] }[] }) =>
      r.resources?.some((g) => g.resources.includes('secrets')),
    );
    expect(secretRule.level).toBe('Metadata');
  });

  it('sets up the kubelet for this node: DNS, serving cert, webhook auth, tuning defaults', () => {
    const config = parse(renderKubeletConfig('1.34.3', w1, inv, { cgroupV1: true }));
    expect(config).toMatchObject({
      cgroupDriver: 'systemd',
      containerRuntimeEndpoint: 'unix:///run/containerd/containerd.sock',
      clusterDNS: ['10.68.0.10'],
      clusterDomain: 'cluster.local',
      tlsCertFile: '/var/lib/kubelet/pki/kubelet.crt',
      tlsPrivateKeyFile: '/var/lib/kubelet/pki/kubelet.key',
      rotateCertificates: false,
      authentication: {
        anonymous: { enabled: false },
        webhook: { enabled: true },
        x509: { clientCAFile: '/etc/kubernetes/pki/ca.crt' },
      },
      authorization: { mode: 'Webhook' },
      maxPods: 110,
      evictionHard: { 'memory.available': '100Mi' },
    });
    expect(config.registerWithTaints).toBeUndefined();
    // 1.34 on cgroup v1 needs nothing; 1.35 and later need failCgroupV1: false, on cgroup v1 only.
    expect(config.failCgroupV1).toBeUndefined();
    expect(parse(renderKubeletConfig('1.35.0', w1, inv, { cgroupV1: true })).failCgroupV1).toBe(false);
    expect(parse(renderKubeletConfig('1.37.0', w1, inv, { cgroupV1: false })).failCgroupV1).toBeUndefined();
  });

  it('taints masters at registration and takes the inventory tuning, taints and overrides', () => {
    const master = parse(renderKubeletConfig('1.36.0', m1, inv, { cgroupV1: false }));
    expect(master.registerWithTaints).toEqual([
      { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' },
    ]);
    expect(master.failSwapOn).toBeUndefined();
    const tuned = inventorySchema.parse({
      cluster: { name: 'prod', mastersSchedulable: true },
      kubelet: { maxPods: 250, kubeReserved: { memory: '1Gi' } },
      hosts: [
        {
          name: 'm1',
          address: '10.0.0.1',
          roles: ['etcd', 'master'],
          taints: [{ key: 'dedicated', value: 'infra', effect: 'NoExecute' }],
        },
      ],
    });
    const custom = parse(
      renderKubeletConfig('1.36.0', tuned.hosts[0]!, tuned, {
        cgroupV1: false,
        clusterDns: '169.254.20.10',
        resolvConf: '/run/systemd/resolve/resolv.conf',
        ignoreSwap: true,
      }),
    );
    expect(custom).toMatchObject({
      registerWithTaints: [{ key: 'dedicated', value: 'infra', effect: 'NoExecute' }],
      clusterDNS: ['169.254.20.10'],
      resolvConf: '/run/systemd/resolve/resolv.conf',
      maxPods: 250,
      kubeReserved: { memory: '1Gi' },
      systemReserved: { cpu: '100m', memory: '256Mi' },
      failSwapOn: false,
    });
  });

  it('runs kube-proxy in the inventory mode over the pod CIDR, leaving conntrack alone when asked', () => {
    for (const proxyMode of ['iptables', 'nftables', 'ipvs'] as const) {
      const config = parse(renderKubeProxyConfig(w1, inventory({ network: { proxyMode } })));
      expect(config).toMatchObject({ mode: proxyMode, clusterCIDR: '172.20.0.0/16', hostnameOverride: 'w1' });
      expect(config.conntrack).toBeUndefined();
    }
    expect(parse(renderKubeProxyConfig(w1, inv, { keepConntrackMax: true })).conntrack).toEqual({
      maxPerCore: 0,
    });
  });
});

describe('local balancer', () => {
  it('forwards 127.0.0.1:6443 to every master with TLS health checks', () => {
    const cfg = renderHaproxyConfig(inv);
    expect(cfg).toContain('bind 127.0.0.1:6443');
    expect(cfg.match(/^\s+server .*$/gm)?.map((l) => l.trim())).toEqual([
      'server m1 10.0.0.1:6443',
      'server m2 10.0.0.2:6443',
      'server m3 10.0.0.3:6443',
    ]);
    expect(cfg).toMatch(/option httpchk GET \/readyz/);
    expect(cfg).toMatch(/default-server check check-ssl verify none/);
  });
});

describe('IPv6 and etcd-only hosts', () => {
  const v6 = inventorySchema.parse({
    cluster: {
      name: 'v6',
      network: { podCidr: 'fd10::/56', serviceCidr: 'fd20::/108', nodeCidrMaskSize: 64 },
    },
    hosts: [
      { name: 'e1', address: 'fd00::5', roles: ['etcd'] },
      { name: 'm1', address: 'fd00::1', roles: ['master'] },
      { name: 'w1', address: 'fd00::11', roles: ['node'] },
    ],
  });

  it('brackets IPv6 addresses where a port follows and takes DNS from the IPv6 service range', () => {
    const m = v6.hosts[1]!;
    expect(renderHaproxyConfig(v6)).toContain('server m1 [fd00::1]:6443');
    expect(flag(apiserverFlags('1.36.0', m, v6), '--etcd-servers')).toBe('https://[fd00::5]:2379');
    expect(flag(apiserverFlags('1.36.0', m, v6), '--bind-address')).toBe('fd00::1');
    expect(parse(renderKubeletConfig('1.36.0', v6.hosts[2]!, v6, { cgroupV1: false })).clusterDNS).toEqual([
      'fd20::a',
    ]);
  });

  it('gives a host with only etcd no Kubernetes files', async () => {
    const pki = await ensurePki('/nonexistent/ks', clusterCerts(v6), { persist: false });
    const input = {
      version: '1.36.0',
      pki,
      encryptionKey: generateEncryptionKey(),
      kubelet: { cgroupV1: false },
    };
    expect(kubernetesHostFiles(v6.hosts[0]!, v6, input)).toEqual([]);
    expect(kubernetesHostFiles(v6.hosts[2]!, v6, input).map((f) => f.path)).not.toContain(
      '/etc/kubernetes/admin.conf',
    );
  });
});
