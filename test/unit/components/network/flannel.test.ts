import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  FLANNEL_DAEMONSET,
  FLANNEL_IMAGES,
  flannelImages,
  flannelObjects,
} from '../../../../src/components/network/flannel.js';
import { parseManifest, workloadContainers } from '../../../../src/components/network/manifest.js';
import { InputError } from '../../../../src/errors.js';
import { LAB_IMAGES } from '../../../../src/lab/build/recipes.js';
import { PACKAGE_ROOT } from '../../../../src/package-root.js';
import { changedPaths, container, find, inventory } from './fixture.js';

const inv = inventory({ podCidr: '10.244.0.0/16' });
const upstream = () =>
  parseManifest(readFileSync(join(PACKAGE_ROOT, 'templates/network/kube-flannel.yml'), 'utf8'), 'flannel');
const configData = (objects: ReturnType<typeof flannelObjects>) =>
  find(objects, 'ConfigMap', 'kube-flannel-cfg').data as Record<string, string>;
const netConf = (objects: ReturnType<typeof flannelObjects>) =>
  JSON.parse(configData(objects)['net-conf.json'] ?? '');
const flanneldArgs = (objects: ReturnType<typeof flannelObjects>) => container(objects, 'kube-flannel').args;

describe('flannelObjects', () => {
  it("sets net-conf.json's Network to the pod CIDR and the vxlan backend by default", () => {
    const conf = netConf(flannelObjects(inventory()));
    expect(conf).toEqual({ Network: '172.20.0.0/16', EnableNFTables: false, Backend: { Type: 'vxlan' } });
    expect(netConf(flannelObjects(inv, { backend: 'host-gw' })).Backend).toEqual({ Type: 'host-gw' });
  });

  it('changes nothing else in the upstream objects but the pull policy, the config hash and the tolerations', () => {
    const objects = flannelObjects(inventory());
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(
      upstream().map((o) => `${o.kind}/${o.metadata.name}`),
    );
    const paths = objects.flatMap((o, i) => changedPaths(upstream()[i], o).map((p) => `${o.kind}:${p}`));
    expect(paths).toEqual([
      'ConfigMap:data.net-conf.json',
      'DaemonSet:spec.template.metadata.annotations',
      'DaemonSet:spec.template.spec.tolerations.0.effect',
      'DaemonSet:spec.template.spec.initContainers.0.imagePullPolicy',
      'DaemonSet:spec.template.spec.initContainers.1.imagePullPolicy',
      'DaemonSet:spec.template.spec.containers.0.imagePullPolicy',
    ]);
  });

  it('gives every object apiVersion, kind and a name, and survives a JSON round trip', () => {
    const objects = flannelObjects(inv, { interface: 'eth1', mtu: 1400 });
    expect(objects).toHaveLength(6);
    for (const o of objects) {
      expect(o.apiVersion && o.kind && o.metadata.name, JSON.stringify(o.metadata)).toBeTruthy();
    }
    expect(JSON.parse(JSON.stringify(objects))).toEqual(objects);
  });

  it("names exactly the lab's images with the default inventory, pulled only when missing", () => {
    const lab = [LAB_IMAGES.flannel, LAB_IMAGES.flannelCni].map((i) => `${i.name}:${i.tag}`);
    expect([...FLANNEL_IMAGES]).toEqual(lab);
    expect(flannelImages()).toEqual(lab);
    const containers = workloadContainers(flannelObjects(inventory()));
    expect(new Set(containers.map((c) => c.image))).toEqual(new Set(lab));
    expect(containers.map((c) => c.imagePullPolicy)).toEqual(Array(3).fill('IfNotPresent'));
  });

  it('leaves ghcr.io names alone whatever cluster.imageRegistry says', () => {
    const objects = flannelObjects(inventory({}, 'registry.aliyuncs.com/google_containers'));
    expect(workloadContainers(objects).every((c) => c.image.startsWith('ghcr.io/flannel-io/'))).toBe(true);
  });

  it("runs every DaemonSet container from flannelImages' list, through a mirror when given", () => {
    const mirror = 'harbor.local:5000/ghcr';
    const images = flannelImages({ imageMirror: mirror });
    expect(images).toEqual([
      'harbor.local:5000/ghcr/flannel-io/flannel:v0.28.9',
      'harbor.local:5000/ghcr/flannel-io/flannel-cni-plugin:v1.9.1-flannel3',
    ]);
    const daemonSet = find(flannelObjects(inv, { imageMirror: mirror }), 'DaemonSet', FLANNEL_DAEMONSET.name);
    for (const c of workloadContainers([daemonSet])) expect(images).toContain(c.image);
  });

  it('adds --iface only when an interface is asked for', () => {
    expect(flanneldArgs(flannelObjects(inv, { interface: 'eth1' }))).toEqual([
      '--ip-masq',
      '--kube-subnet-mgr',
      '--healthz-port=8081',
      '--iface=eth1',
    ]);
    for (const objects of [flannelObjects(inv), flannelObjects(inv, { interface: '' })]) {
      expect(flanneldArgs(objects)?.some((a) => a.startsWith('--iface'))).toBe(false);
    }
  });

  it("puts an MTU on the CNI bridge (flanneld has no MTU setting); 0 leaves flannel's", () => {
    const delegate = (objects: ReturnType<typeof flannelObjects>) =>
      JSON.parse(configData(objects)['cni-conf.json'] ?? '').plugins[0].delegate;
    expect(delegate(flannelObjects(inv, { mtu: 1400 }))).toEqual({
      hairpinMode: true,
      isDefaultGateway: true,
      mtu: 1400,
    });
    expect(delegate(flannelObjects(inv, { mtu: 0 }))).not.toHaveProperty('mtu');
    expect(netConf(flannelObjects(inv, { mtu: 1400 }))).not.toHaveProperty('MTU');
  });

  it('tolerates every taint, and rolls its pods when the config they read at start changes', () => {
    const daemonSet = (o: ReturnType<typeof flannelObjects>) =>
      o.find((x) => x.kind === 'DaemonSet')!.spec as {
        template: { metadata: { annotations: Record<string, string> }; spec: { tolerations: unknown[] } };
      };
    const vxlan = daemonSet(flannelObjects(inv));
    expect(vxlan.template.spec.tolerations).toEqual([{ operator: 'Exists' }]);
    const hash = (o: typeof vxlan) => o.template.metadata.annotations['kubesmith.io/config-hash'];
    expect(hash(vxlan)).toMatch(/^[0-9a-f]{16}$/);
    expect(hash(daemonSet(flannelObjects(inv)))).toBe(hash(vxlan));
    expect(hash(daemonSet(flannelObjects(inv, { backend: 'host-gw' })))).not.toBe(hash(vxlan));
  });

  it('names the DaemonSet to wait for', () => {
    const daemonSet = find(flannelObjects(inv), FLANNEL_DAEMONSET.kind, FLANNEL_DAEMONSET.name);
    expect(daemonSet.metadata.namespace).toBe(FLANNEL_DAEMONSET.namespace);
    expect(FLANNEL_DAEMONSET).toEqual({
      kind: 'DaemonSet',
      namespace: 'kube-flannel',
      name: 'kube-flannel-ds',
    });
  });

  it('refuses an IPv6 pod CIDR, naming the field', () => {
    const v6 = inventory({ podCidr: 'fd00:10:244::/56', serviceCidr: 'fd00:10:96::/112' });
    expect(() => flannelObjects(v6)).toThrow(InputError);
    expect(() => flannelObjects(v6)).toThrow(/cluster\.network\.podCidr is fd00:10:244::\/56.*IPv4/);
  });
});
