import { describe, expect, it } from 'vitest';
import { addonManifest } from '../../../../src/components/addons/manifest.js';
import {
  NODE_LOCAL_DNS_DAEMONSET,
  NODE_LOCAL_DNS_IMAGE,
  NODE_LOCAL_DNS_LAB_NOTE,
  nodeLocalDnsImages,
  nodeLocalDnsObjects,
} from '../../../../src/components/addons/nodelocaldns.js';
import { containerNamed } from '../../../../src/components/network/manifest.js';
import type { KubeObject } from '../../../../src/kube/types.js';
import { changedPaths } from '../network/fixture.js';
import { expectWellFormed, find, inventory, leftPlaceholders } from './fixture.js';

const iptables = inventory({ network: { proxyMode: 'iptables' } });
const ipvs = inventory({ network: { proxyMode: 'ipvs' } });
/** What node-cache fills itself when it starts. */
const RUNTIME = ['__PILLAR__CLUSTER__DNS__', '__PILLAR__UPSTREAM__SERVERS__'];
const UPSTREAM_FILE = 'nodelocaldns/nodelocaldns.yaml';

const corefile = (objects: KubeObject[]) =>
  (find(objects, 'ConfigMap', 'node-local-dns').data as { Corefile: string }).Corefile;
const nodeCache = (objects: KubeObject[]) =>
  containerNamed(find(objects, 'DaemonSet', NODE_LOCAL_DNS_DAEMONSET.name), 'node-cache');
const localIpArg = (objects: KubeObject[]) => {
  const args = nodeCache(objects).args ?? [];
  return args[args.indexOf('-localip') + 1];
};
const lines = (text: string, start: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith(start));

describe('nodeLocalDnsObjects', () => {
  it('kube-proxy iptables mode: listens on the local address and the kube-dns address', () => {
    const objects = nodeLocalDnsObjects(iptables);
    expect(localIpArg(objects)).toBe('169.254.20.10,10.68.0.10');
    const text = corefile(objects);
    expect(lines(text, 'bind ')).toEqual(Array(4).fill('bind 169.254.20.10 10.68.0.10'));
    expect(lines(text, 'health ')).toEqual(['health 169.254.20.10:8080']);
    expect(text.startsWith('cluster.local:53 {\n')).toBe(true);
    expect(lines(text, 'forward ')).toEqual([
      ...Array(3).fill('forward . __PILLAR__CLUSTER__DNS__ {'),
      'forward . __PILLAR__UPSTREAM__SERVERS__',
    ]);
    expect(nodeCache(objects).livenessProbe).toMatchObject({ httpGet: { host: '169.254.20.10' } });
  });

  it('takes the local address, service CIDR and cluster domain from the options and the inventory', () => {
    const custom = inventory({
      network: { proxyMode: 'iptables', serviceCidr: '10.96.0.0/12', dnsDomain: 'k8s.example.internal' },
    });
    const objects = nodeLocalDnsObjects(custom, { localIp: '169.254.0.53' });
    expect(localIpArg(objects)).toBe('169.254.0.53,10.96.0.10');
    expect(lines(corefile(objects), 'bind ')[0]).toBe('bind 169.254.0.53 10.96.0.10');
    expect(corefile(objects).startsWith('k8s.example.internal:53 {\n')).toBe(true);
    expect(nodeCache(objects).livenessProbe).toMatchObject({ httpGet: { host: '169.254.0.53' } });
  });

  it('treats kube-proxy nftables mode as iptables mode (no interface holds the kube-dns address)', () => {
    const nftables = inventory({ network: { proxyMode: 'nftables' } });
    expect(nodeLocalDnsObjects(nftables)).toEqual(nodeLocalDnsObjects(iptables));
  });

  it('kube-proxy ipvs mode: listens on the local address only and forwards to kube-dns itself', () => {
    const objects = nodeLocalDnsObjects(ipvs);
    expect(localIpArg(objects)).toBe('169.254.20.10');
    const text = corefile(objects);
    expect(lines(text, 'bind ')).toEqual(Array(4).fill('bind 169.254.20.10'));
    expect(lines(text, 'forward ')).toEqual([
      ...Array(3).fill('forward . 10.68.0.10 {'),
      'forward . __PILLAR__UPSTREAM__SERVERS__',
    ]);
  });

  it('fills every placeholder but those node-cache fills when it starts', () => {
    expect(leftPlaceholders(nodeLocalDnsObjects(iptables), RUNTIME)).toEqual([]);
    expect(leftPlaceholders(nodeLocalDnsObjects(ipvs), ['__PILLAR__UPSTREAM__SERVERS__'])).toEqual([]);
    expect(leftPlaceholders(addonManifest(UPSTREAM_FILE), RUNTIME).length).toBe(3);
  });

  it('changes only the Corefile, -localip, the probe host and the pull policy', () => {
    const upstream = addonManifest(UPSTREAM_FILE);
    const objects = nodeLocalDnsObjects(iptables);
    const paths = upstream.flatMap((o, i) => changedPaths(o, objects[i]).map((p) => `${o.kind}:${p}`));
    const container = 'DaemonSet:spec.template.spec.containers.0';
    expect(paths).toEqual([
      'ConfigMap:data.Corefile',
      `${container}.args.1`,
      `${container}.livenessProbe.httpGet.host`,
      `${container}.imagePullPolicy`,
    ]);
  });

  it('names the upstream image, flat under another cluster.imageRegistry', () => {
    expect(nodeCache(nodeLocalDnsObjects(iptables)).image).toBe(NODE_LOCAL_DNS_IMAGE);
    expect(NODE_LOCAL_DNS_IMAGE).toBe('registry.k8s.io/dns/k8s-dns-node-cache:1.26.4');
    const china = inventory({ imageRegistry: 'registry.aliyuncs.com/google_containers' });
    expect(nodeLocalDnsImages(china)).toEqual([
      'registry.aliyuncs.com/google_containers/k8s-dns-node-cache:1.26.4',
    ]);
    expect(nodeCache(nodeLocalDnsObjects(china)).image).toBe(nodeLocalDnsImages(china)[0]);
    expect(nodeCache(nodeLocalDnsObjects(china, { image: 'harbor.local/node-cache:1.26.4' })).image).toBe(
      'harbor.local/node-cache:1.26.4',
    );
  });

  it('gives every object apiVersion, kind and name; names the DaemonSet and why the lab skips it', () => {
    const objects = nodeLocalDnsObjects(ipvs);
    expectWellFormed(objects);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'ServiceAccount/node-local-dns',
      'Service/kube-dns-upstream',
      'ConfigMap/node-local-dns',
      'DaemonSet/node-local-dns',
      'Service/node-local-dns',
    ]);
    expect(NODE_LOCAL_DNS_DAEMONSET).toEqual({
      kind: 'DaemonSet',
      namespace: 'kube-system',
      name: 'node-local-dns',
    });
    expect(NODE_LOCAL_DNS_LAB_NOTE).toMatch(/cannot be built in the lab.*rendered and contract-tested only/);
  });
});
