import type { Inventory } from '../../inventory/schema.js';
import { rollOnConfigChange } from './config-hash.js';
import { mirroredImage, useImages } from './images.js';
import { configMapData, containerNamed, objectNamed, upstreamObjects } from './manifest.js';
import { ipv4PodCidr } from './pod-cidr.js';
import type { Container, NetworkObject, WorkloadRef } from './types.js';

/** The images templates/network/calico*.yaml (v3.32.1) name. */
export const CALICO_IMAGES = [
  'quay.io/calico/cni:v3.32.1',
  'quay.io/calico/node:v3.32.1',
  'quay.io/calico/kube-controllers:v3.32.1',
] as const;

export const CALICO_LAB_NOTE =
  "Calico's images cannot be built in the lab, so calico is rendered and contract-tested only; lab clusters run flannel.";

export const CALICO_DAEMONSET: WorkloadRef = {
  kind: 'DaemonSet',
  namespace: 'kube-system',
  name: 'calico-node',
};

export interface CalicoOptions {
  /** bird (the default): BGP with IP-in-IP, calico.yaml; vxlan: no BGP, VXLAN across subnets, calico-vxlan.yaml. */
  backend?: 'bird' | 'vxlan';
  /** The pods' and tunnels' MTU (veth_mtu); unset or 0 lets calico detect it. */
  mtu?: number;
  /** The host interface whose address calico uses; unset or '' takes the one that reaches the first master. */
  interface?: string;
  /** A registry (host and optional path) that serves quay.io's images; see mirroredImage. */
  imageMirror?: string;
}

const MANIFEST_FILES = { bird: 'calico.yaml', vxlan: 'calico-vxlan.yaml' } as const;

/** The images calicoObjects' containers run. */
export function calicoImages(options: Pick<CalicoOptions, 'imageMirror'> = {}): string[] {
  return CALICO_IMAGES.map((image) => mirroredImage(image, options.imageMirror));
}

function setEnv(container: Container, name: string, value: string): void {
  const env = (container.env ?? []).filter((e) => e.name !== name);
  container.env = [...env, { name, value }];
}

/** calico-node's IP_AUTODETECTION_METHOD: exactly the named interface (its value is a regex), or can-reach. */
function autodetectionMethod(inv: Inventory, iface: string | undefined): string {
  if (iface) return `interface=^${iface.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
  const master = inv.hosts.find((h) => h.roles.includes('master'));
  if (!master) throw new Error('the inventory has no master for calico to reach');
  return `can-reach=${master.address}`;
}

/** Upstream calico's objects for the inventory's pod network, patched as parsed objects. */
export function calicoObjects(inv: Inventory, options: CalicoOptions = {}): NetworkObject[] {
  const podCidr = ipv4PodCidr(inv, 'calico');
  const objects = upstreamObjects(MANIFEST_FILES[options.backend ?? 'bird']);
  if (options.mtu)
    configMapData(objectNamed(objects, 'ConfigMap', 'calico-config')).veth_mtu = String(options.mtu);
  const node = containerNamed(
    objectNamed(objects, CALICO_DAEMONSET.kind, CALICO_DAEMONSET.name),
    'calico-node',
  );
  // Upstream has this one commented out: calico would create its default pool as 192.168.0.0/16.
  setEnv(node, 'CALICO_IPV4POOL_CIDR', podCidr);
  setEnv(node, 'IP_AUTODETECTION_METHOD', autodetectionMethod(inv, options.interface));
  useImages(objects, options.imageMirror);
  rollOnConfigChange(objects, CALICO_DAEMONSET, 'calico-config');
  return objects;
}
