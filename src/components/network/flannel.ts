import type { Inventory } from '../../inventory/schema.js';
import { rollOnConfigChange } from './config-hash.js';
import { mirroredImage, useImages } from './images.js';
import { configMapData, containerNamed, objectNamed, upstreamObjects } from './manifest.js';
import { ipv4PodCidr } from './pod-cidr.js';
import type { NetworkObject, WorkloadRef } from './types.js';

/**
 * The images templates/network/kube-flannel.yml (v0.28.9) names; the lab builds and imports
 * exactly these (LAB_IMAGES in src/lab/build/recipes.ts).
 */
export const FLANNEL_IMAGES = [
  'ghcr.io/flannel-io/flannel:v0.28.9',
  'ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel3',
] as const;

export const FLANNEL_DAEMONSET: WorkloadRef = {
  kind: 'DaemonSet',
  namespace: 'kube-flannel',
  name: 'kube-flannel-ds',
};

export interface FlannelOptions {
  /** vxlan (the default) crosses subnets; host-gw routes through the hosts and needs them on one L2 segment. */
  backend?: 'vxlan' | 'host-gw';
  /**
   * The pods' MTU (the CNI bridge's); unset or 0 takes flannel's, the host interface's less the
   * encapsulation. flanneld has no MTU setting of its own, so this may only be lower than that.
   */
  mtu?: number;
  /** The host interface flannel carries pod traffic over (--iface); unset or '' takes the default route's. */
  interface?: string;
  /** A registry (host and optional path) that serves ghcr.io's images; see mirroredImage. */
  imageMirror?: string;
}

/** The images flannelObjects' containers run. */
export function flannelImages(options: Pick<FlannelOptions, 'imageMirror'> = {}): string[] {
  return FLANNEL_IMAGES.map((image) => mirroredImage(image, options.imageMirror));
}

interface NetConf {
  Network: string;
  Backend: { Type: string };
}

interface CniConfList {
  plugins: { type: string; delegate?: Record<string, unknown> }[];
}

/** Rewrites a JSON document held in a ConfigMap value. */
function editJson<T>(data: Record<string, string>, key: string, edit: (doc: T) => void): void {
  const text = data[key];
  if (text === undefined) throw new Error(`kube-flannel-cfg has no ${key}`);
  const doc = JSON.parse(text) as T;
  edit(doc);
  data[key] = `${JSON.stringify(doc, null, 2)}\n`;
}

/** Upstream flannel's objects for the inventory's pod network, patched as parsed objects. */
export function flannelObjects(inv: Inventory, options: FlannelOptions = {}): NetworkObject[] {
  const podCidr = ipv4PodCidr(inv, 'flannel');
  const objects = upstreamObjects('kube-flannel.yml');
  const data = configMapData(objectNamed(objects, 'ConfigMap', 'kube-flannel-cfg'));
  editJson<NetConf>(data, 'net-conf.json', (net) => {
    net.Network = podCidr;
    net.Backend.Type = options.backend ?? 'vxlan';
  });
  const { mtu } = options;
  if (mtu) {
    editJson<CniConfList>(data, 'cni-conf.json', (list) => {
      const flannel = list.plugins.find((p) => p.type === 'flannel');
      if (!flannel) throw new Error('kube-flannel-cfg cni-conf.json has no flannel plugin');
      flannel.delegate = { ...flannel.delegate, mtu };
    });
  }
  if (options.interface) {
    const daemonSet = objectNamed(objects, FLANNEL_DAEMONSET.kind, FLANNEL_DAEMONSET.name);
    const flanneld = containerNamed(daemonSet, 'kube-flannel');
    flanneld.args = [...(flanneld.args ?? []), `--iface=${options.interface}`];
  }
  // Upstream tolerates only NoSchedule: a node tainted NoExecute would have no pod network.
  const podSpec = (
    objectNamed(objects, FLANNEL_DAEMONSET.kind, FLANNEL_DAEMONSET.name).spec as {
      template: { spec: { tolerations?: unknown[] } };
    }
  ).template.spec;
  podSpec.tolerations = [{ operator: 'Exists' }];
  useImages(objects, options.imageMirror);
  rollOnConfigChange(objects, FLANNEL_DAEMONSET, 'kube-flannel-cfg');
  return objects;
}
