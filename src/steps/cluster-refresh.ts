import { COREDNS_DEPLOYMENT } from '../components/addons/coredns.js';
import { runData } from '../engine/run-data.js';
import type { DeployStep } from '../engine/step.js';
import { OperationError } from '../errors.js';
import { RESTORE_RESULT } from '../etcd/run-keys.js';
import { withClusterApi } from '../hostlib/kube-api.js';
import { pollUntil } from '../kube/poll.js';
import { sh } from '../transport/quote.js';

const READY_TIMEOUT_MS = 180_000;
/** What reads the API through long-lived watches on every master and node. */
const MASTER_UNITS = ['kube-controller-manager', 'kube-scheduler'];
const NODE_UNITS = ['kubelet', 'kube-proxy'];

/**
 * After every apiserver was down (restore, start), the API's clients come back on their own only
 * after their backoff, and after a restore they hold state newer than etcd's: the controllers and
 * node agents are restarted (restore; start has just started them) and CoreDNS's pods replaced, so
 * every watcher lists the cluster afresh before verify judges it. Nothing to do on hosts where
 * Kubernetes does not run (an etcd-only cluster).
 */
export const clusterRefresh: DeployStep = {
  id: 'cluster-refresh',
  title:
    "the API's clients refreshed: controllers and node agents restarted after a restore, CoreDNS replaced",
  onDeployMachine: true,
  async run(ctx) {
    const masters = ctx.hosts.filter((h) => h.roles.includes('master'));
    if (masters.length === 0) return ctx.log('no master: nothing to refresh');
    const active = await ctx.conn(masters[0]!.name).exec(['systemctl', 'is-active', '-q', 'kube-apiserver'], {
      signal: ctx.signal,
    });
    if (active.exitCode !== 0) return ctx.log('kube-apiserver does not run here: nothing to refresh');
    if (ctx.dryRun) return ctx.log('would restart the controllers and node agents, and replace CoreDNS pods');
    if (runData(ctx.shared).get(RESTORE_RESULT)) {
      const failed: string[] = [];
      await Promise.all(
        ctx.hosts.map(async (host) => {
          const units = [...(host.roles.includes('master') ? MASTER_UNITS : []), ...NODE_UNITS];
          const script = sh`for u in ${units}; do if systemctl is-active -q "$u"; then systemctl restart "$u" || exit 1; fi; done`;
          const result = await ctx.conn(host.name).exec(['sh', '-c', script], { signal: ctx.signal });
          if (result.exitCode !== 0) failed.push(host.name);
          else ctx.changed(host.name);
        }),
      );
      if (failed.length)
        throw new OperationError(
          `could not restart the controllers or node agents on ${failed.join(', ')}`,
          'journalctl -u kubelet (or the unit named there) on them says why',
        );
      ctx.log(`restarted ${MASTER_UNITS.join(', ')} on the masters and ${NODE_UNITS.join(', ')} everywhere`);
    }
    await withClusterApi(ctx, async (api, via) => {
      const { namespace, name } = COREDNS_DEPLOYMENT;
      // The apiservers have just come back: wait until the one behind the balancer answers ready.
      const ready = await pollUntil(async () => (await api.rawGet('/readyz')).status === 200, {
        timeoutMs: READY_TIMEOUT_MS,
        signal: ctx.signal,
      });
      if (!ready)
        throw new OperationError('the API did not answer /readyz after the control plane came back');
      if (!(await api.restartWorkload('Deployment', namespace, name))) return;
      ctx.changed(via.name);
      await api.waitDeploymentReady(namespace, name, { timeoutMs: READY_TIMEOUT_MS, signal: ctx.signal });
      ctx.log(`${namespace}/${name}: pods replaced and ready`);
    });
  },
};
