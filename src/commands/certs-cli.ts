import type { Command } from 'commander';
import type { CertRow } from '../certs/judge.js';
import { formatRenewPlan } from '../certs/renew-plan.js';
import { certSummary, formatCertTable } from '../certs/table.js';
import { OperationError } from '../errors.js';
import { RENEW_BEFORE_DAYS } from '../pki/store.js';
import { checkCerts, renewCerts } from './certs.js';
import { becomePassword, confirm, globals, interruptSignal, progress } from './cli-helpers.js';
import { openCluster } from './context.js';

/** Fails the command (exit 1) when a certificate is expired, missing or unreadable; after the table. */
function failures(rows: readonly CertRow[]): void {
  const failed = rows.filter((r) => r.status === 'fail');
  if (failed.length === 0) return;
  throw new OperationError(
    `${failed.length} certificate(s) expired, missing or unreadable: ${failed
      .slice(0, 5)
      .map((r) => `${r.host} ${r.file}`)
      .join(', ')}${failed.length > 5 ? ', ...' : ''}`,
    'an expired leaf: kubesmith certs renew CLUSTER; a missing one: kubesmith setup CLUSTER all',
  );
}

/** certs check and certs renew. */
export function registerCertsCommands(program: Command): void {
  const certs = program.command('certs').description("the cluster's certificates on its hosts");

  certs
    .command('check')
    .description(
      `every certificate on every host: subject, issuer, expiry; warns within ${RENEW_BEFORE_DAYS} days, fails when expired`,
    )
    .argument('[cluster]', 'cluster name (or use -i FILE)')
    .action(async (cluster: string | undefined, _o, cmd: Command) => {
      const opened = await openCluster(cluster, globals(cmd));
      const rows = await checkCerts(opened, {
        becomePassword: await becomePassword(cmd),
        signal: interruptSignal(),
        display: progress(cmd),
      });
      if (globals(cmd).output === 'json')
        process.stdout.write(
          `${JSON.stringify({
            type: 'result',
            cluster: opened.loaded.inventory.cluster.name,
            checkedAt: new Date().toISOString(),
            renewBeforeDays: RENEW_BEFORE_DAYS,
            rows,
          })}\n`,
        );
      else process.stdout.write(`${formatCertTable(rows)}\n\n${certSummary(rows)}\n`);
      failures(rows);
    });

  certs
    .command('renew')
    .description(
      'reissue every leaf certificate and roll them out one host at a time (etcd, masters, nodes), the cluster serving throughout',
    )
    .argument('[cluster]', 'cluster name (or use -i FILE)')
    .option('--yes', 'do not ask for confirmation')
    .option('--ca', 'also rotate the CAs (not implemented yet: refused)')
    .action(async (cluster: string | undefined, options: { yes?: boolean; ca?: boolean }, cmd: Command) => {
      const opened = await openCluster(cluster, globals(cmd));
      const name = opened.loaded.inventory.cluster.name;
      const renewed = await renewCerts(opened, {
        ca: options.ca,
        becomePassword: await becomePassword(cmd),
        signal: interruptSignal(),
        display: progress(cmd),
        approve: async (plan) => {
          process.stderr.write(formatRenewPlan(name, plan));
          if (!options.yes)
            await confirm(
              `this restarts etcd, the control plane, kubelet and kube-proxy on every host, one at a time. Type the cluster name (${name}) to go on: `,
              name,
            );
        },
      });
      const text = `renewed ${renewed.reissued.length} leaf certificate(s) on ${new Set(renewed.plan.phases.flatMap((p) => p.turns.map((t) => t.host))).size} host(s); snapshot ${renewed.snapshot ?? 'none'}; cluster healthy`;
      if (globals(cmd).output === 'json')
        process.stdout.write(
          `${JSON.stringify({ type: 'result', message: text, reissued: renewed.reissued.map((c) => c.id), snapshot: renewed.snapshot })}\n`,
        );
      else process.stdout.write(`${text}\n`);
    });
}
