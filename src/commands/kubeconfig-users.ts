import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCommandPlaybook } from '../engine/command-run.js';
import { RunData } from '../engine/run-data.js';
import { InputError } from '../errors.js';
import {
  GRANT_REQUEST,
  GRANT_RESULT,
  type GrantRequest,
  type GrantResult,
  LIST_USER,
  REVOKE_RESULT,
  REVOKE_USER,
  type RevokeResult,
  USER_ACCESS,
  type UserAccess,
} from '../kube/user-run-keys.js';
import { masters } from '../pki/kubernetes-spec.js';
import { CA } from '../pki/spec.js';
import { readUserRecords, type UserRecord } from '../pki/user-records.js';
import { STEPS } from '../steps/index.js';
import type { Day2Options } from './backup.js';
import { recordedRotation } from './certs.js';
import type { Cluster } from './context.js';

/** The cluster CA must be here: user certificates are signed on this machine, never on a host. */
function requireLocalCa(cluster: Cluster): void {
  const caKey = join(cluster.paths.pki, `${CA.kubernetes}.key`);
  if (!existsSync(caKey))
    throw new InputError(
      `no cluster CA at ${caKey}: the cluster was not set up from this machine; run kubesmith setup ${cluster.loaded.inventory.cluster.name} first`,
    );
}

/** A user certificate signed during a CA rotation would be signed by a CA about to go, or not yet trusted. */
async function refuseDuringRotation(cluster: Cluster): Promise<void> {
  const rotation = await recordedRotation(cluster.paths.pki);
  if (rotation)
    throw new InputError(
      `a CA rotation started ${rotation.startedAt} is at phase ${rotation.phase}: a certificate issued now would stop working when it ends; finish it first with kubesmith certs renew ${cluster.loaded.inventory.cluster.name} --ca`,
    );
}

/** Runs one of playbooks/kubeconfig-*.yaml through the first master that answers (any may be down). */
async function runUserPlaybook(
  cluster: Cluster,
  playbook: 'user' | 'list' | 'revoke',
  label: string,
  data: RunData,
  options: Day2Options,
): Promise<void> {
  requireLocalCa(cluster);
  if (playbook === 'user') await refuseDuringRotation(cluster);
  await runCommandPlaybook({
    label,
    playbook: `kubeconfig-${playbook}`,
    paths: cluster.paths,
    loaded: cluster.loaded,
    registry: STEPS,
    display: options.display,
    data,
    // One master is enough to reach the API: the others may be down.
    mayBeUnreachable: masters(cluster.loaded.inventory).map((h) => h.name),
    becomePassword: options.becomePassword,
    signal: options.signal,
  });
}

/** kubeconfig --user: the certificate issued, the user bound, the kubeconfig written. */
export async function grantUser(
  cluster: Cluster,
  request: GrantRequest,
  options: Day2Options,
): Promise<GrantResult> {
  const data = new RunData();
  data.set(GRANT_REQUEST, request);
  await runUserPlaybook(cluster, 'user', `kubeconfig --user ${request.user}`, data, options);
  return data.need(GRANT_RESULT);
}

/** What the API's bindings (one user's, or all) and this machine's records say. */
export async function readUserAccess(
  cluster: Cluster,
  user: string | undefined,
  options: Day2Options,
): Promise<{ access: UserAccess; records: UserRecord[] }> {
  const data = new RunData();
  data.set(LIST_USER, user);
  await runUserPlaybook(
    cluster,
    'list',
    user ? `kubeconfig --revoke ${user}` : 'kubeconfig --list',
    data,
    options,
  );
  const records = await readUserRecords(cluster.paths.dir);
  return {
    access: data.need(USER_ACCESS),
    records: user ? records.filter((r) => r.user === user) : records,
  };
}

/** kubeconfig --revoke, once confirmed: the user's bindings and kubeconfig removed. */
export async function revokeUser(
  cluster: Cluster,
  user: string,
  options: Day2Options,
): Promise<RevokeResult> {
  const data = new RunData();
  data.set(REVOKE_USER, user);
  await runUserPlaybook(cluster, 'revoke', `kubeconfig --revoke ${user}`, data, options);
  return data.need(REVOKE_RESULT);
}
