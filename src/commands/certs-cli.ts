import type { Command } from 'commander';
import { formatCaPlan } from '../certs/ca-plan.js';
import type { CertRow } from '../certs/judge.js';
import { formatRenewPlan } from '../certs/renew-plan.js';
import { certSummary, formatCertTable } from '../certs/table.js';
import { OperationError } from '../errors.js';
import { RENEW_BEFORE_DAYS } from '../pki/store.js';
import { checkCerts, renewCerts } from './certs.js';
import { rotateCas } from './certs-ca.js';
import { becomePassword, confirm, globals, interruptSignal, progress } from './cli-helpers.js';
import { type Cluster, openCluster } from './context.js';

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

/** Shows the plan on stderr, then asks for the cluster name unless --yes. */
function approval<P>(name: string, yes: boolean | undefined, format: (plan: P) => string, effect: string) {
  return async (plan: P) => {
    process.stderr.write(format(plan));
    if (!yes) await confirm(`${effect}. Type the cluster name (${name}) to go on: `, name);
  };
}

/** certs renew --ca: the rotation's plan, the confirmation, its three phases. */
async function rotateCommand(opened: Cluster, options: { yes?: boolean }, cmd: Command): Promise<void> {
  const name = opened.loaded.inventory.cluster.name;
  const rotated = await rotateCas(opened, {
    becomePassword: await becomePassword(cmd),
    signal: interruptSignal(),
    display: progress(cmd),
    approve: approval(
      name,
      options.yes,
      (plan) => formatCaPlan(name, plan),
      'this restarts etcd, the control plane, kubelet and kube-proxy on every host once per phase, one host at a time, and restarts pods that call the API',
    ),
  });
  const text = `CA rotation done (phases ${rotated.phases.join(', ')}): ${rotated.reissued} leaf certificate(s) reissued under the new CAs; snapshot ${rotated.snapshot ?? 'none'}; cluster healthy`;
  if (globals(cmd).output === 'json')
    process.stdout.write(
      `${JSON.stringify({ type: 'result', message: text, phases: rotated.phases, reissued: rotated.reissued, snapshot: rotated.snapshot })}\n`,
    );
  else process.stdout.write(`${text}\n`);
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
    .option(
      '--ca',
      'rotate the CAs too, in three phases with a trust overlap (trust both, new CAs sign, drop the old); resumes an interrupted rotation',
    )
    .action(async (cluster: string | undefined, options: { yes?: boolean; ca?: boolean }, cmd: Command) => {
      const opened = await openCluster(cluster, globals(cmd));
      if (options.ca) return rotateCommand(opened, options, cmd);
      const name = opened.loaded.inventory.cluster.name;
      const renewed = await renewCerts(opened, {
        becomePassword: await becomePassword(cmd),
        signal: interruptSignal(),
        display: progress(cmd),
        approve: approval(
          name,
          options.yes,
          (plan) => formatRenewPlan(name, plan),
          'this restarts etcd, the control plane, kubelet and kube-proxy on every host, one at a time',
        ),
      });
      const text = `renewed ${renewed.reissued.length} leaf certificate(s) on ${new Set(renewed.plan.phases.flatMap((p) => p.turns.map((t) => t.host))).size} host(s); snapshot ${renewed.snapshot ?? 'none'}; cluster healthy`;
      if (globals(cmd).output === 'json')
        process.stdout.write(
          `${JSON.stringify({ type: 'result', message: text, reissued: renewed.reissued.map((c) => c.id), snapshot: renewed.snapshot })}\n`,
        );
      else process.stdout.write(`${text}\n`);
    });
}
