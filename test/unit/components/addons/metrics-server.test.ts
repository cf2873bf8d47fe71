import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  METRICS_API_SERVICE,
  METRICS_SERVER_DEPLOYMENT,
  METRICS_SERVER_IMAGE,
  metricsServerImages,
  metricsServerObjects,
} from '../../../../src/components/addons/metrics-server.js';
import { containerNamed, parseManifest } from '../../../../src/components/network/manifest.js';
import type { KubeObject } from '../../../../src/kube/types.js';
import { LAB_IMAGES } from '../../../../src/lab/build/recipes.js';
import { changedPaths } from '../network/fixture.js';
import { expectWellFormed, find, inventory, leftPlaceholders } from './fixture.js';

const inv = inventory();
/** `kubectl kustomize manifests/overlays/release` at v0.9.0: what upstream releases as components.yaml. */
const releaseBuild = parseManifest(
  readFileSync(join(import.meta.dirname, 'metrics-server-release.yaml'), 'utf8'),
  'metrics-server-release.yaml',
);
const key = (o: KubeObject) => `${o.kind}/${o.metadata.name}`;
const deployment = (objects: KubeObject[]) => find(objects, 'Deployment', METRICS_SERVER_DEPLOYMENT.name);
const server = (objects: KubeObject[]) => containerNamed(deployment(objects), 'metrics-server');

interface PodSpec {
  volumes: { name: string; configMap?: { name: string; items?: { key: string; path: string }[] } }[];
}

describe('metricsServerObjects', () => {
  it("is upstream's release build but for the image, the kubelet flags, the CA volume and the masters' toleration", () => {
    const objects = metricsServerObjects(inv);
    expect(objects.map(key).sort()).toEqual(releaseBuild.map(key).sort());
    const paths = objects.flatMap((o) =>
      changedPaths(
        releaseBuild.find((r) => key(r) === key(o)),
        o,
      ).map((p) => `${o.kind}:${p}`),
    );
    const container = 'Deployment:spec.template.spec.containers.0';
    expect(paths.sort()).toEqual([
      `${container}.args.2`,
      `${container}.args.3`,
      `${container}.args.4`,
      `${container}.args.5`,
      `${container}.image`,
      `${container}.volumeMounts.1`,
      'Deployment:spec.template.spec.tolerations',
      'Deployment:spec.template.spec.volumes.1',
    ]);
  });

  it('verifies the kubelets with the cluster CA (never --kubelet-insecure-tls) and prefers their address', () => {
    const args = server(metricsServerObjects(inv)).args;
    expect(args).toEqual([
      '--cert-dir=/tmp',
      '--secure-port=10250',
      '--kubelet-use-node-status-port',
      '--kubelet-certificate-authority=/etc/kubelet-ca/ca.crt',
      '--kubelet-preferred-address-types=InternalIP,Hostname',
      '--metric-resolution=15s',
    ]);
    expect(args?.some((a) => a.startsWith('--kubelet-insecure-tls'))).toBe(false);
  });

  it('points the CA flag at a file mounted from the kube-root-ca.crt ConfigMap', () => {
    const objects = metricsServerObjects(inv);
    const caFile = server(objects)
      .args?.find((a) => a.startsWith('--kubelet-certificate-authority='))
      ?.split('=')[1];
    expect(caFile).toBeDefined();
    const mounts = server(objects).volumeMounts as { name: string; mountPath: string; readOnly?: boolean }[];
    const mount = mounts.find((m) => m.mountPath === dirname(caFile!));
    expect(mount?.readOnly).toBe(true);
    const volumes = (deployment(objects).spec as { template: { spec: PodSpec } }).template.spec.volumes;
    const volume = volumes.find((v) => v.name === mount?.name);
    expect(volume?.configMap).toEqual({
      name: 'kube-root-ca.crt',
      items: [{ key: 'ca.crt', path: basename(caFile!) }],
    });
  });

  it('registers the metrics API through the metrics-server Service', () => {
    const objects = metricsServerObjects(inv);
    expect(METRICS_API_SERVICE).toBe('v1beta1.metrics.k8s.io');
    const apiService = find(objects, 'APIService', METRICS_API_SERVICE);
    expect(apiService.spec).toMatchObject({
      group: 'metrics.k8s.io',
      version: 'v1beta1',
      service: { name: 'metrics-server', namespace: 'kube-system' },
    });
    find(objects, 'Service', 'metrics-server');
    expect(objects.at(-1)).toBe(apiService);
  });

  it("selects the Deployment's pods by the kustomize base's common label", () => {
    const objects = metricsServerObjects(inv);
    const spec = deployment(objects).spec as {
      selector: { matchLabels: object };
      template: { metadata: { labels: object } };
    };
    expect(spec.selector.matchLabels).toEqual({ 'k8s-app': 'metrics-server' });
    expect(spec.template.metadata.labels).toEqual({ 'k8s-app': 'metrics-server' });
    expect(find(objects, 'Service', 'metrics-server').spec).toMatchObject({
      selector: { 'k8s-app': 'metrics-server' },
    });
  });

  it("runs exactly the lab's image by default, flat under another cluster.imageRegistry", () => {
    const lab = `${LAB_IMAGES.metricsServer.name}:${LAB_IMAGES.metricsServer.tag}`;
    expect(METRICS_SERVER_IMAGE).toBe(lab);
    expect(server(metricsServerObjects(inv)).image).toBe(
      'registry.k8s.io/metrics-server/metrics-server:v0.8.0',
    );
    expect(metricsServerImages(inv)).toEqual([lab]);
    const china = inventory({ imageRegistry: 'registry.aliyuncs.com/google_containers' });
    expect(server(metricsServerObjects(china)).image).toBe(
      'registry.aliyuncs.com/google_containers/metrics-server:v0.8.0',
    );
    const own = { image: 'harbor.local/k8s/metrics-server:v0.8.0' };
    expect(server(metricsServerObjects(china, own)).image).toBe(own.image);
    expect(metricsServerImages(china, own)).toEqual([own.image]);
  });

  it('hands out independent objects on every call', () => {
    const first = metricsServerObjects(inv);
    const volumes = (deployment(first).spec as { template: { spec: PodSpec } }).template.spec.volumes;
    volumes[1]!.name = 'changed';
    const second = (deployment(metricsServerObjects(inv)).spec as { template: { spec: PodSpec } }).template
      .spec;
    expect(second.volumes[1]!.name).toBe('kubelet-ca');
  });

  it('leaves no placeholder in any string and gives every object apiVersion, kind and name', () => {
    const objects = metricsServerObjects(inv);
    expect(leftPlaceholders(objects)).toEqual([]);
    expectWellFormed(objects);
    expect(METRICS_SERVER_DEPLOYMENT).toEqual({
      kind: 'Deployment',
      namespace: 'kube-system',
      name: 'metrics-server',
    });
  });
});
