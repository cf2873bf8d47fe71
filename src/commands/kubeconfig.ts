import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { parse } from 'yaml';
import { z } from 'zod';
import { InputError } from '../errors.js';
import { becomePassword, confirm, globals, interruptSignal, progress, say } from './cli-helpers.js';
import { type Cluster, openCluster } from './context.js';
import { DEFAULT_DAYS, type KubeconfigOptions, kubeconfigAction, MAX_DAYS } from './kubeconfig-input.js';
import {
  formatGrant,
  formatRevokePlan,
  formatRevokeResult,
  formatUserList,
  issuedUsers,
} from './kubeconfig-report.js';
import { grantUser, readUserAccess, revokeUser } from './kubeconfig-users.js';

const serverSchema = z.object({ clusters: z.array(z.object({ cluster: z.object({ server: z.string() }) })) });

/** The admin kubeconfig setup writes on this machine (clusters/<name>/kubeconfig), and the server it names. */
async function adminKubeconfig(cluster: Cluster): Promise<{ file: string; text: string; server?: string }> {
  const file = join(cluster.paths.dir, 'kubeconfig');
  const text = await readFile(file, 'utf8').catch(() => {
    throw new InputError(
      `no admin kubeconfig at ${file}: the cluster was not set up from this machine; run kubesmith setup ${cluster.loaded.inventory.cluster.name}`,
    );
  });
  // Only the server is read, and a parse failure says nothing of the file: it holds a key.
  const parsed = serverSchema.safeParse(
    (() => {
      try {
        return parse(text);
      } catch {
        return undefined;
      }
    })(),
  );
  return { file, text, server: parsed.data?.clusters[0]?.cluster.server };
}

async function runKubeconfig(
  name: string | undefined,
  options: KubeconfigOptions,
  cmd: Command,
): Promise<void> {
  const action = kubeconfigAction(options);
  const cluster = await openCluster(name, globals(cmd));
  if (action.kind === 'admin') {
    const admin = await adminKubeconfig(cluster);
    process.stdout.write(admin.text);
    say(
      `admin kubeconfig (group kubeadm:cluster-admins, bound to cluster-admin) for ${admin.server ?? 'the cluster'}: ${admin.file}`,
    );
    return;
  }
  const run = {
    becomePassword: await becomePassword(cmd),
    signal: interruptSignal(),
    display: progress(cmd),
  };
  if (action.kind === 'grant') {
    const { kind: _, ...request } = action;
    const result = await grantUser(cluster, request, run);
    if (globals(cmd).output === 'json')
      process.stdout.write(`${JSON.stringify({ type: 'result', kubeconfigFile: result.kubeconfigFile })}\n`);
    else process.stdout.write(`${result.kubeconfigFile}\n`);
    for (const line of formatGrant(request, result)) say(line);
    return;
  }
  if (action.kind === 'list') {
    const { access, records } = await readUserAccess(cluster, undefined, run);
    const users = issuedUsers(access, records);
    if (globals(cmd).output === 'json')
      process.stdout.write(`${JSON.stringify({ type: 'result', users })}\n`);
    else process.stdout.write(`${formatUserList(users)}\n`);
    return;
  }
  const { user } = action;
  const { access, records } = await readUserAccess(cluster, user, run);
  const record = records[0];
  if (!record && access.bindings.length === 0)
    throw new InputError(
      `--revoke: kubesmith issued no user '${user}' for this cluster (see kubeconfig --list)`,
    );
  for (const line of formatRevokePlan(user, access, record)) say(line);
  if (!action.yes) await confirm(`type the user name (${user}) to revoke it: `, user);
  const result = await revokeUser(cluster, user, run);
  for (const line of formatRevokeResult(user, result, record)) say(line);
}

/** kubeconfig: the admin kubeconfig, or a user's (issued, listed, revoked). */
export function registerKubeconfigCommand(program: Command): void {
  program
    .command('kubeconfig')
    .description(
      'print the admin kubeconfig; with --user, issue a person a client certificate from the cluster CA bound to admin, edit or view; --list, --revoke',
    )
    .argument('[cluster]', 'cluster name (or use -i FILE)')
    .option('--user <name>', 'issue this user a certificate (CN) and kubeconfig under clusters/<name>/users/')
    .option('--group <group>', "the certificate's group (O), e.g. a team other bindings name")
    .option(
      '--namespace <ns>',
      'bind the role in this namespace only (a RoleBinding); cluster-wide without it',
    )
    .option(
      '--create-namespace',
      'create the namespace when it does not exist (else refused, so a typo creates nothing)',
    )
    .option('--role <role>', 'the ClusterRole to bind: admin, edit or view (default: view)')
    .option(
      '--days <n>',
      `how long the certificate is valid, 1 to ${MAX_DAYS} (default: ${DEFAULT_DAYS}; it cannot be revoked)`,
    )
    .option('--list', 'list the users kubesmith issued: their access and certificate expiry')
    .option('--revoke <name>', "remove the user's bindings (its certificate stays valid until it expires)")
    .option('--yes', 'revoke without asking')
    .action(runKubeconfig);
}
