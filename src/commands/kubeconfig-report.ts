import { scopeOf, type UserBinding } from '../kube/user-access.js';
import type { GrantResult, RevokeResult, UserAccess } from '../kube/user-run-keys.js';
import type { UserRecord } from '../pki/user-records.js';
import { formatTable } from '../render/table.js';

const DAY_MS = 86_400_000;
const day = (date: Date) => date.toISOString().slice(0, 10);

/** `until 2026-12-29 (30 days left)`, or `expired 2026-11-01`. */
export function validity(notAfter: Date, now = Date.now()): string {
  const left = Math.round((notAfter.getTime() - now) / DAY_MS);
  return notAfter.getTime() <= now
    ? `expired ${day(notAfter)}`
    : `until ${day(notAfter)} (${left} days left)`;
}

const access = (bindings: readonly UserBinding[]) =>
  bindings.map((b) => `${b.role} in ${b.namespace ?? 'the cluster'}`).join(', ') || 'none (revoked)';

/** A user kubesmith issued, as --list shows it (and prints it with -o json). */
export interface IssuedUser {
  user: string;
  groups: string[];
  bindings: UserBinding[];
  /** When its certificate recorded here expires; undefined when it was issued from another machine. */
  certificateExpires?: Date;
  /** Whether its kubeconfig (the key) is still here: --revoke removes it. */
  hasKubeconfig: boolean;
}

/** The users the API's bindings and this machine's certificates name, by user. */
export function issuedUsers(data: UserAccess, records: readonly UserRecord[]): IssuedUser[] {
  const users = [...new Set([...records.map((r) => r.user), ...data.bindings.map((b) => b.user)])].sort();
  return users.map((user) => {
    const record = records.find((r) => r.user === user);
    return {
      user,
      groups: record?.groups ?? [],
      bindings: data.bindings.filter((b) => b.user === user),
      ...(record ? { certificateExpires: record.notAfter } : {}),
      hasKubeconfig: record?.hasKubeconfig ?? false,
    };
  });
}

/** kubeconfig --list: one row per user, from the API's bindings and this machine's certificates. */
export function formatUserList(users: readonly IssuedUser[], now = Date.now()): string {
  if (users.length === 0)
    return 'no users issued by kubesmith; issue one with: kubesmith kubeconfig CLUSTER --user NAME --role view';
  const rows = users.map((u) => [
    u.user,
    u.groups.join(',') || '-',
    access(u.bindings),
    u.certificateExpires ? validity(u.certificateExpires, now) : 'not issued from this machine',
    u.hasKubeconfig ? `users/${u.user}.kubeconfig` : u.certificateExpires ? 'removed' : '-',
  ]);
  return formatTable(['USER', 'GROUPS', 'ACCESS', 'CERTIFICATE', 'KUBECONFIG'], rows);
}

/** Why a certificate outlives its revocation, said every time a user is revoked. */
export function certificateStaysValid(
  user: string,
  record: UserRecord | undefined,
  now = Date.now(),
): string {
  const until = record ? ` ${validity(record.notAfter, now)}` : ' until it expires';
  return `Kubernetes cannot revoke a client certificate: ${user}'s stays valid for authentication${until}, with no permission beyond what every authenticated user has (discovery, reviews of its own access). Keep lifetimes short (--days).`;
}

/** What --revoke will do, shown before it asks. */
export function formatRevokePlan(user: string, data: UserAccess, record: UserRecord | undefined): string[] {
  const lines = [`revoke ${user}:`];
  for (const b of data.bindings) lines.push(`  remove ${b.kind} ${b.name} (${b.role} in ${scopeOf(b)})`);
  if (record?.hasKubeconfig) lines.push(`  remove users/${user}.kubeconfig on this machine (the key)`);
  for (const ns of data.namespaces)
    lines.push(
      `  keep namespace ${ns} (made for ${user}; it may hold workloads: delete it yourself if it must go)`,
    );
  lines.push(certificateStaysValid(user, record));
  return lines;
}

export function formatRevokeResult(
  user: string,
  result: RevokeResult,
  record: UserRecord | undefined,
): string[] {
  const removed = result.removed.map((b) => `${b.kind} in ${scopeOf(b)}`);
  return [
    `${user}: removed ${removed.join(', ') || 'no binding (none was left)'}${result.kubeconfigRemoved ? `, and users/${user}.kubeconfig` : ''}`,
    certificateStaysValid(user, record),
  ];
}

/** What --user did, for stderr (stdout carries the kubeconfig's path alone). */
export function formatGrant(
  { user, namespace }: { user: string; namespace?: string },
  result: GrantResult,
  now = Date.now(),
): string[] {
  const lines: string[] = [];
  if (result.namespaceCreated && namespace)
    lines.push(`created namespace ${namespace} (labelled for ${user})`);
  lines.push(`${user} now holds: ${access(result.bindings)}`);
  lines.push(
    `certificate valid ${validity(result.notAfter, now)}; kubeconfig (0600): ${result.kubeconfigFile}`,
  );
  if (result.replaced && result.replaced.notAfter.getTime() > now)
    lines.push(
      `it replaces the certificate issued earlier, which stays valid ${validity(result.replaced.notAfter, now)} (a client certificate cannot be revoked)`,
    );
  lines.push(
    `use it: kubectl --kubeconfig ${result.kubeconfigFile} get pods${namespace ? ` -n ${namespace}` : ''}`,
  );
  return lines;
}
