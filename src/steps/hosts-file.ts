import { runData } from '../engine/run-data.js';
import type { Step } from '../engine/step.js';
import { HOSTS_DROPPED } from '../nodes/run-keys.js';
import { clusterHostsEntries, withHostsBlock } from '../os/files.js';

/**
 * Only the cluster's block in /etc/hosts, for hosts a day-2 command does not otherwise touch:
 * the hosts that join are added, those that leave (HOSTS_DROPPED) taken out.
 */
export const hostsFile: Step = {
  id: 'hosts-file',
  title: "/etc/hosts: the cluster's hosts block only",
  async run(ctx) {
    const dropped = runData(ctx.shared).get(HOSTS_DROPPED) ?? [];
    const current = (await ctx.read(['cat', '/etc/hosts'])).stdout;
    const hosts = ctx.inventory.hosts.filter((h) => !dropped.includes(h.name));
    await ctx.apply([
      { kind: 'file', path: '/etc/hosts', content: withHostsBlock(current, clusterHostsEntries(hosts)) },
    ]);
  },
};
