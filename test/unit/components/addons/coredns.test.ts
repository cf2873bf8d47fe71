import { describe, expect, it } from 'vitest';
import {
  COREDNS_DEPLOYMENT,
  corednsImages,
  corednsObjects,
} from '../../../../src/components/addons/coredns.js';
import { addonManifest } from '../../../../src/components/addons/manifest.js';
import {
  configMapData,
  containerNamed,
  objectNamed,
  workloadContainers,
} from '../../../../src/components/network/manifest.js';
import type { KubeObject } from '../../../../src/kube/types.js';
import { LAB_IMAGES } from '../../../../src/lab/build/recipes.js';
import { LAB_KUBERNETES_VERSION } from '../../../../src/lab/inventory.js';
import { changedPaths } from '../network/fixture.js';
import { expectWellFormed, find, inventory, leftPlaceholders } from './fixture.js';

const inv = inventory();
const deployment = (objects: KubeObject[]) => find(objects, 'Deployment', COREDNS_DEPLOYMENT.name);
const podSpec = (objects: KubeObject[]) =>
  (deployment(objects).spec as { template: { spec: Record<string, unknown> } }).template.spec;
const corefile = (objects: KubeObject[]) =>
  (find(objects, 'ConfigMap', 'coredns').data as { Corefile: string }).Corefile;
const clusterIp = (objects: KubeObject[]) =>
  (find(objects, 'Service', 'kube-dns').spec as { clusterIP: string }).clusterIP;
const image = (objects: KubeObject[]) => containerNamed(deployment(objects), 'coredns').image;

describe('corednsObjects', () => {
  it('puts the kube-dns Service at the 10th service address, or the one asked for', () => {
    expect(clusterIp(corednsObjects(inv))).toBe('10.68.0.10');
    expect(clusterIp(corednsObjects(inventory({ network: { serviceCidr: '10.96.0.0/12' } })))).toBe(
      '10.96.0.10',
    );
    expect(clusterIp(corednsObjects(inv, { clusterIp: '10.68.0.53' }))).toBe('10.68.0.53');
  });

  it("serves the inventory's cluster domain and forwards the rest to the node's resolvers", () => {
    const custom = corefile(corednsObjects(inventory({ network: { dnsDomain: 'k8s.example.internal' } })));
    expect(custom).toContain('    kubernetes k8s.example.internal in-addr.arpa ip6.arpa {\n');
    expect(custom).toContain('    forward . /etc/resolv.conf {\n');
    expect(corefile(corednsObjects(inv))).toContain('kubernetes cluster.local in-addr.arpa ip6.arpa {');
  });

  it('runs 2 replicas by default, kept apart by a preferred anti-affinity over the hostname', () => {
    const objects = corednsObjects(inv);
    expect((deployment(objects).spec as { replicas: number }).replicas).toBe(2);
    expect((deployment(corednsObjects(inv, { replicas: 3 })).spec as { replicas: number }).replicas).toBe(3);
    expect(podSpec(objects).affinity).toEqual({
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 100,
            podAffinityTerm: {
              labelSelector: { matchExpressions: [{ key: 'k8s-app', operator: 'In', values: ['kube-dns'] }] },
              topologyKey: 'kubernetes.io/hostname',
            },
          },
        ],
      },
    });
  });

  it("adds a PodDisruptionBudget over the Deployment's pods: at most one unavailable", () => {
    const objects = corednsObjects(inv);
    const budget = find(objects, 'PodDisruptionBudget', 'coredns');
    expect(budget).toMatchObject({
      apiVersion: 'policy/v1',
      metadata: { namespace: 'kube-system' },
      spec: { maxUnavailable: 1, selector: { matchLabels: { 'k8s-app': 'kube-dns' } } },
    });
    expect(addonManifest('coredns/coredns.yaml.base').some((o) => o.kind === 'PodDisruptionBudget')).toBe(
      false,
    );
    const podLabels = (deployment(objects).spec as { template: { metadata: { labels: object } } }).template
      .metadata.labels;
    expect(podLabels).toMatchObject(
      (budget.spec as { selector: { matchLabels: object } }).selector.matchLabels,
    );
  });

  it("tolerates the masters' taint and limits memory to 170Mi", () => {
    const objects = corednsObjects(inv);
    expect(podSpec(objects).tolerations).toEqual([
      { key: 'CriticalAddonsOnly', operator: 'Exists' },
      { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' },
    ]);
    expect(containerNamed(deployment(objects), 'coredns').resources).toEqual({
      limits: { memory: '170Mi' },
      requests: { cpu: '100m', memory: '70Mi' },
    });
  });

  it("runs exactly the lab's CoreDNS on the lab's Kubernetes, with the default registry", () => {
    const lab = inventory({ kubernetesVersion: LAB_KUBERNETES_VERSION });
    const labImage = `${LAB_IMAGES.coredns.name}:${LAB_IMAGES.coredns.tag}`;
    expect(labImage).toBe('registry.k8s.io/coredns/coredns:v1.12.1');
    expect(image(corednsObjects(lab))).toBe(labImage);
    expect(corednsImages(lab)).toEqual([labImage]);
  });

  it("follows the image catalog: kubeadm's CoreDNS per minor, flat under another cluster.imageRegistry", () => {
    expect(image(corednsObjects(inventory({ kubernetesVersion: '1.35.4' })))).toBe(
      'registry.k8s.io/coredns/coredns:v1.13.1',
    );
    const china = inventory({
      kubernetesVersion: '1.34.4',
      imageRegistry: 'registry.aliyuncs.com/google_containers',
    });
    expect(image(corednsObjects(china))).toBe('registry.aliyuncs.com/google_containers/coredns:v1.12.1');
    expect(image(corednsObjects(china, { image: 'harbor.local/dns/coredns:v1.12.1' }))).toBe(
      'harbor.local/dns/coredns:v1.12.1',
    );
    expect(workloadContainers(corednsObjects(china)).map((c) => c.imagePullPolicy)).toEqual(['IfNotPresent']);
  });

  it('changes nothing else in the upstream objects, RBAC included', () => {
    const objects = corednsObjects(inv);
    const upstream = addonManifest('coredns/coredns.yaml.base');
    expect(objects.slice(0, -1).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(
      upstream.map((o) => `${o.kind}/${o.metadata.name}`),
    );
    const paths = upstream.flatMap((o, i) => changedPaths(o, objects[i]).map((p) => `${o.kind}:${p}`));
    expect(paths).toEqual([
      'ConfigMap:data.Corefile',
      'Deployment:spec.template.spec.tolerations.1',
      'Deployment:spec.template.spec.containers.0.image',
      'Deployment:spec.template.spec.containers.0.resources.limits.memory',
      'Deployment:spec.replicas',
      'Service:spec.clusterIP',
    ]);
  });

  it('leaves no placeholder in any string and gives every object apiVersion, kind and name', () => {
    const objects = corednsObjects(inventory({ network: { dnsDomain: 'example.org' } }));
    expect(leftPlaceholders(objects)).toEqual([]);
    expect(leftPlaceholders(addonManifest('coredns/coredns.yaml.base')).length).toBe(3);
    expectWellFormed(objects);
    expect(objects.map((o) => o.metadata.namespace ?? '-')).toEqual([
      'kube-system',
      '-',
      '-',
      'kube-system',
      'kube-system',
      'kube-system',
      'kube-system',
    ]);
  });

  it('names the Deployment to wait for', () => {
    expect(COREDNS_DEPLOYMENT).toEqual({ kind: 'Deployment', namespace: 'kube-system', name: 'coredns' });
  });

  it('forwards outside names to the given resolvers, or nowhere (cluster names only)', () => {
    const corefile = (upstream?: string[] | 'none') =>
      configMapData(objectNamed(corednsObjects(inventory(), { upstream }), 'ConfigMap', 'coredns')).Corefile!;
    expect(corefile()).toContain('forward . /etc/resolv.conf {');
    expect(corefile(['10.0.0.2', '10.0.0.3'])).toMatch(
      /\n( +)forward \. 10\.0\.0\.2 10\.0\.0\.3 \{\n\1 +max_concurrent 1000\n\1\}\n/,
    );
    const none = corefile('none');
    expect(none).not.toContain('forward');
    expect(none).toContain('cache 30');
    expect(none).toContain('kubernetes cluster.local in-addr.arpa ip6.arpa');
  });
});
