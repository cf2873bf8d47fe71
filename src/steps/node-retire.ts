import { needsLocalBalancer } from '../components/kubernetes/haproxy.js';
import type { Resource } from '../engine/resources.js';
import type { Step } from '../engine/step.js';
import { CONTROL_PLANE_UNITS, masterPaths, nodePaths } from '../nodes/footprint.js';
import {
  cleanupResources,
  leftoverRead,
  leftovers,
  nodeStoppedCheck,
  stopNodeScript,
  stopUnitsScript,
  unitsStoppedCheck,
} from '../nodes/retire.js';

/**
 * On each leaving worker (del-node) or master (del-master, never an etcd member): every
 * kubesmith service stopped and disabled, its pods and their mounts, network interfaces and
 * iptables chains gone, and every file setup installed removed (see nodes/footprint.ts).
 * Packages stay installed. Running it again changes nothing.
 */
export const nodeRetire: Step = {
  id: 'node-retire',
  title: 'the leaving hosts cleaned: services, pods, mounts, interfaces, iptables chains, files',
  async run(ctx) {
    const balancer = needsLocalBalancer(ctx.inventory);
    const binDir = ctx.inventory.artifacts.binDir;
    const stops: Resource[] = [
      {
        kind: 'command',
        title: `stop and disable kubelet, kube-proxy (its rules cleaned up), the pods, containerd${balancer ? ' and haproxy' : ''}`,
        argv: ['sh', '-c', stopNodeScript({ balancer, binDir })],
        unless: ['sh', '-c', nodeStoppedCheck({ balancer })],
      },
      // Whatever role the run gives the host (del-master hands it over as a worker): units that are not there cost nothing.
      {
        kind: 'command',
        title: `stop and disable ${CONTROL_PLANE_UNITS.join(', ')} where they run`,
        argv: ['sh', '-c', stopUnitsScript(CONTROL_PLANE_UNITS)],
        unless: ['sh', '-c', unitsStoppedCheck(CONTROL_PLANE_UNITS)],
      },
    ];
    await ctx.apply(stops);
    const seen = leftoverRead.parse((await ctx.read(['sh', '-c', leftoverRead.script])).stdout);
    const hostsFile = (await ctx.read(['cat', '/etc/hosts'])).stdout;
    const paths = [...nodePaths(ctx.inventory), ...masterPaths()];
    await ctx.apply(cleanupResources(leftovers(seen), paths, binDir, hostsFile));
  },
};
