import { createHash } from 'node:crypto';
import { configMapData, objectNamed } from './manifest.js';
import type { NetworkObject, WorkloadRef } from './types.js';

export const CONFIG_HASH_ANNOTATION = 'kubesmith.io/config-hash';

/**
 * Marks the workload's pod template with a hash of the ConfigMap its pods read only at start
 * (flanneld's net-conf.json, calico's veth_mtu): a changed config then rolls the pods instead of
 * changing nothing until their next restart.
 */
export function rollOnConfigChange(objects: NetworkObject[], workload: WorkloadRef, configMap: string): void {
  const data = configMapData(objectNamed(objects, 'ConfigMap', configMap));
  const hash = createHash('sha256').update(JSON.stringify(data)).digest('hex').slice(0, 16);
  const spec = objectNamed(objects, workload.kind, workload.name).spec as {
    template: { metadata?: { annotations?: Record<string, string> } };
  };
  spec.template.metadata ??= {};
  spec.template.metadata.annotations = {
    ...spec.template.metadata.annotations,
    [CONFIG_HASH_ANNOTATION]: hash,
  };
}
