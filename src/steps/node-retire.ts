import type { Resource } from '../engine/resources.js';
import type { Step } from '../engine/step.js';
import { nodePaths } from '../nodes/footprint.js';
import {
  filesGoneCheck,
  leftoverRead,
  leftovers,
  nodeStoppedCheck,
  removeFilesScript,
  restoreScript,
  stopNodeScript,
} from '../nodes/retire.js';
import { withoutManagedBlock } from '../os/files.js';
import { sh } from '../transport/quote.js';

const LINK_DIR = '/usr/local/bin';

/**
 * On each leaving worker: every kubesmith service stopped and disabled, its pods and their
 * mounts, network interfaces and iptables chains gone, and every file setup installed removed
 * (see nodes/footprint.ts). Packages stay installed. Running it again changes nothing.
 */
export const nodeRetire: Step = {
  id: 'node-retire',
  title: 'del-node: the leaving hosts cleaned: services, pods, mounts, interfaces, iptables chains, files',
  async run(ctx) {
    const binDir = ctx.inventory.artifacts.binDir;
    await ctx.apply([
      {
        kind: 'command',
        title: 'stop and disable kubelet, kube-proxy, the pods, containerd and haproxy',
        argv: ['sh', '-c', stopNodeScript()],
        unless: ['sh', '-c', nodeStoppedCheck()],
      },
    ]);
    const seen = leftoverRead.parse((await ctx.read(['sh', '-c', leftoverRead.script])).stdout);
    const left = leftovers(seen);
    const hostsFile = (await ctx.read(['cat', '/etc/hosts'])).stdout;
    const paths = nodePaths(ctx.inventory);
    const cleanup: Resource[] = [
      ...(left.mounts.length
        ? [
            {
              kind: 'command' as const,
              title: `unmount ${left.mounts.length} mount(s) of pods and the runtime`,
              argv: ['sh', '-c', left.mounts.map((m) => sh`umount ${m} || umount -l ${m}`).join('\n')],
            },
          ]
        : []),
      ...left.links.map((link) => ({
        kind: 'command' as const,
        title: `ip link delete ${link}`,
        argv: ['ip', 'link', 'delete', link],
      })),
      ...left.rules.map((r) => ({
        kind: 'command' as const,
        title: `${r.tool}: ${r.removed} line(s) of kube-proxy's and the CNI plugin's chains removed`,
        argv: ['sh', '-c', restoreScript(r.tool, r.text)],
      })),
      {
        kind: 'command',
        title: `remove ${paths.length} kubesmith paths and the links into ${binDir}`,
        argv: ['sh', '-c', removeFilesScript(paths, LINK_DIR, binDir)],
        unless: ['sh', '-c', filesGoneCheck(paths, LINK_DIR, binDir)],
      },
      { kind: 'file', path: '/etc/hosts', content: withoutManagedBlock(hostsFile, 'cluster hosts') },
    ];
    await ctx.apply(cleanup);
  },
};
