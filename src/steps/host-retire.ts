import { ETCD_PATHS } from '../components/etcd.js';
import { needsLocalBalancer } from '../components/kubernetes/haproxy.js';
import type { Resource } from '../engine/resources.js';
import { runData } from '../engine/run-data.js';
import type { Step } from '../engine/step.js';
import { dirsOf, retiredPaths, retireMemberScript } from '../etcd/data-swap.js';
import { CONTROL_PLANE_UNITS, ETCD_UNIT, hostPaths } from '../nodes/footprint.js';
import {
  cleanupResources,
  leftoverRead,
  leftovers,
  nodeStoppedCheck,
  stopNodeScript,
  stopUnitsScript,
  unitsStoppedCheck,
} from '../nodes/retire.js';
import { DESTROY_REQUEST } from '../power/run-keys.js';
import { sh } from '../transport/quote.js';

/**
 * destroy, on every host whatever its roles: kubelet, kube-proxy, the pods, containerd and
 * haproxy stopped (as del-node's node-retire does), the control plane stopped, etcd retired
 * (its data moved aside inside the data dir, or purged; its keys deleted), then the mounts,
 * interfaces, iptables chains and every path of nodes/footprint.ts hostPaths removed. Packages
 * stay installed. Running it again changes nothing.
 */
export const hostRetire: Step = {
  id: 'host-retire',
  title:
    'destroy: every host cleaned: services, pods, etcd (data kept aside), mounts, interfaces, iptables chains, files',
  async run(ctx) {
    const { stamp, purge } = runData(ctx.shared).need(DESTROY_REQUEST);
    const dirs = dirsOf(ctx.inventory);
    const member = `${dirs.dataDir}/member`;
    const balancer = needsLocalBalancer(ctx.inventory);
    const stops: Resource[] = [
      {
        kind: 'command',
        title: `stop and disable kubelet, kube-proxy (its rules cleaned up), the pods, containerd${balancer ? ' and haproxy' : ''}`,
        argv: ['sh', '-c', stopNodeScript({ balancer, binDir: ctx.inventory.artifacts.binDir })],
        unless: ['sh', '-c', nodeStoppedCheck({ balancer })],
      },
      {
        kind: 'command',
        title: `stop and disable ${CONTROL_PLANE_UNITS.join(', ')}`,
        argv: ['sh', '-c', stopUnitsScript(CONTROL_PLANE_UNITS)],
        unless: ['sh', '-c', unitsStoppedCheck(CONTROL_PLANE_UNITS)],
      },
      ...(ctx.host.roles.includes('etcd')
        ? [
            {
              kind: 'command' as const,
              title: purge
                ? 'stop and disable etcd, delete its data and keys'
                : `stop and disable etcd, keep its data aside at ${retiredPaths(dirs, stamp).join(' and ')}, delete its keys`,
              argv: ['sh', '-c', retireMemberScript(dirs, stamp, purge)],
              unless: [
                'sh',
                '-c',
                `(${unitsStoppedCheck([ETCD_UNIT])}) && ${sh`[ ! -e ${member} ] && [ ! -e ${ETCD_PATHS.pki} ]`}`,
              ],
            },
          ]
        : []),
    ];
    await ctx.apply(stops);
    const seen = leftoverRead.parse((await ctx.read(['sh', '-c', leftoverRead.script])).stdout);
    const hostsFile = (await ctx.read(['cat', '/etc/hosts'])).stdout;
    const binDir = ctx.inventory.artifacts.binDir;
    await ctx.apply(cleanupResources(leftovers(seen), hostPaths(ctx.inventory, purge), binDir, hostsFile));
  },
};
