import { DEFAULT_IMAGE_REGISTRY } from '../artifacts/image-catalog.js';
import type { Inventory } from '../inventory/schema.js';
import { minorOf } from '../inventory/versions.js';
import type { KubeObject, Taint } from '../kube/types.js';

export const SMOKE_LABEL = 'kubesmith.io/verify-smoke';
export const SMOKE_APP = 'kubesmith-smoke';
export const SMOKE_PORT = 8080;

/**
 * agnhost's tag in each minor's e2e suite (test/utils/image/manifest.go), so the smoke runs the
 * image the suite and offline bundles carry. 1.36 and 1.37 reuse 1.35's until checked.
 */
const AGNHOST_TAGS: Record<string, string> = {
  '1.34': '2.56',
  '1.35': '2.59',
  '1.36': '2.59',
  '1.37': '2.59',
};

/** agnhost through cluster.imageRegistry (kept under e2e-test-images/ only on the default registry). */
export function smokeImage(inv: Inventory): string {
  const tag = AGNHOST_TAGS[minorOf(inv.cluster.kubernetesVersion)] ?? '2.59';
  const registry = inv.cluster.imageRegistry;
  return registry === DEFAULT_IMAGE_REGISTRY
    ? `${registry}/e2e-test-images/agnhost:${tag}`
    : `${registry}/agnhost:${tag}`;
}

/**
 * A namespace of its own, agnhost netexec pods one on each of the given nodes (required by
 * affinity, spread one per node; the nodes' declared taints tolerated) and a NodePort Service
 * in front of them.
 */
export function smokeObjects(
  namespace: string,
  image: string,
  nodes: readonly string[],
  tolerated: readonly Taint[],
): KubeObject[] {
  const labels = { app: SMOKE_APP };
  const tolerations = tolerated.map((t) => ({
    key: t.key,
    operator: t.value === undefined ? 'Exists' : 'Equal',
    ...(t.value === undefined ? {} : { value: t.value }),
    effect: t.effect,
  }));
  return [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: namespace, labels: { [SMOKE_LABEL]: 'true' } },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: SMOKE_APP, namespace },
      spec: {
        replicas: nodes.length,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            tolerations,
            affinity: {
              nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                  nodeSelectorTerms: [
                    {
                      matchExpressions: [
                        { key: 'kubernetes.io/hostname', operator: 'In', values: [...nodes] },
                      ],
                    },
                  ],
                },
              },
            },
            terminationGracePeriodSeconds: 1,
            topologySpreadConstraints: [
              {
                maxSkew: 1,
                topologyKey: 'kubernetes.io/hostname',
                whenUnsatisfiable: 'DoNotSchedule',
                nodeTaintsPolicy: 'Honor',
                labelSelector: { matchLabels: labels },
              },
            ],
            containers: [
              {
                name: 'agnhost',
                image,
                args: ['netexec', `--http-port=${SMOKE_PORT}`],
                readinessProbe: { httpGet: { path: '/readyz', port: SMOKE_PORT }, periodSeconds: 1 },
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: SMOKE_APP, namespace },
      spec: { type: 'NodePort', selector: labels, ports: [{ port: 80, targetPort: SMOKE_PORT }] },
    },
  ];
}
