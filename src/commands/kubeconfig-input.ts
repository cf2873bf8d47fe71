import { InputError } from '../errors.js';
import { USER_ROLES, type UserRole } from '../kube/user-access.js';
import { CLUSTER_ADMINS_GROUP } from '../pki/kubernetes-spec.js';

/** What `kubesmith kubeconfig` is asked, as commander hands it over (strings, unchecked). */
export interface KubeconfigOptions {
  user?: string;
  group?: string;
  namespace?: string;
  createNamespace?: boolean;
  role?: string;
  days?: string;
  list?: boolean;
  revoke?: string;
  yes?: boolean;
}

export const DEFAULT_DAYS = 30;
export const MAX_DAYS = 365;

/** One thing to do, each checked before any host is touched. */
export type KubeconfigAction =
  | { kind: 'admin' }
  | { kind: 'list' }
  | { kind: 'revoke'; user: string; yes: boolean }
  | {
      kind: 'grant';
      user: string;
      group?: string;
      namespace?: string;
      createNamespace: boolean;
      role: UserRole;
      days: number;
    };

/** A user name: the certificate's CN, a label value and a file name, so the characters all three allow. */
const USER_NAME = /^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/;
/** Names of kubesmith's own identities: a person with one of them would be mistaken for the component. */
const RESERVED_USERS = [
  'kubernetes-admin',
  'kubernetes-super-admin',
  'kube-apiserver',
  'kube-apiserver-kubelet-client',
  'front-proxy-client',
];
const GROUP_NAME = /^[A-Za-z0-9]([A-Za-z0-9._:-]{0,61}[A-Za-z0-9])?$/;
const NAMESPACE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function checkUserName(user: string, option: string): string {
  if (!USER_NAME.test(user))
    throw new InputError(
      `${option}: '${user}' is not a user name kubesmith issues: 1 to 63 lower-case letters, digits, '.', '_' or '-', starting and ending with a letter or digit (it is the certificate's CN, a label value and a file name)`,
    );
  if (RESERVED_USERS.includes(user))
    throw new InputError(`${option}: '${user}' is an identity of the cluster itself; choose a person's name`);
  return user;
}

function checkGroup(group: string): string {
  if (!GROUP_NAME.test(group))
    throw new InputError(
      `--group: '${group}' must be 1 to 63 letters, digits, '.', '_', ':' or '-', starting and ending with a letter or digit`,
    );
  if (group.startsWith('system:') || group === CLUSTER_ADMINS_GROUP)
    throw new InputError(
      `--group: '${group}' is a group Kubernetes or kubesmith gives privileges to (system:masters passes every check); bind a role with --role instead`,
    );
  return group;
}

function checkNamespace(namespace: string): string {
  if (!NAMESPACE.test(namespace))
    throw new InputError(
      `--namespace: '${namespace}' is not a namespace name: 1 to 63 lower-case letters, digits or '-', starting and ending with a letter or digit`,
    );
  return namespace;
}

function checkRole(role: string): UserRole {
  const known = USER_ROLES.find((r) => r === role);
  if (!known) throw new InputError(`--role: '${role}' is not one of ${USER_ROLES.join(', ')}`);
  return known;
}

function checkDays(days: string): number {
  const value = /^\d+$/.test(days) ? Number(days) : Number.NaN;
  if (!(value >= 1 && value <= MAX_DAYS))
    throw new InputError(
      `--days: '${days}' must be a whole number of days from 1 to ${MAX_DAYS} (a client certificate cannot be revoked, so keep it short; ${DEFAULT_DAYS} by default)`,
    );
  return value;
}

/** The options of a user grant, named when given without --user. */
const GRANT_ONLY = ['group', 'namespace', 'createNamespace', 'role', 'days'] as const;
const flag = (option: string) => `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** The one action the options ask for, every value checked; an InputError names the option and the fix. */
export function kubeconfigAction(options: KubeconfigOptions): KubeconfigAction {
  const modes = [options.user && '--user', options.list && '--list', options.revoke && '--revoke'].filter(
    Boolean,
  );
  if (modes.length > 1) throw new InputError(`${modes.join(' and ')}: give one of them, not several`);
  const grantOnly = GRANT_ONLY.filter((o) => options[o] !== undefined);
  if (!options.user && grantOnly.length)
    throw new InputError(`${grantOnly.map(flag).join(', ')}: only with --user NAME (the user to issue)`);
  if (options.yes && !options.revoke) throw new InputError('--yes: only with --revoke NAME');
  if (options.list) return { kind: 'list' };
  if (options.revoke)
    return { kind: 'revoke', user: checkUserName(options.revoke, '--revoke'), yes: options.yes ?? false };
  if (!options.user) return { kind: 'admin' };
  if (options.createNamespace && !options.namespace)
    throw new InputError('--create-namespace: only with --namespace NS (the namespace to create)');
  return {
    kind: 'grant',
    user: checkUserName(options.user, '--user'),
    ...(options.group !== undefined ? { group: checkGroup(options.group) } : {}),
    ...(options.namespace !== undefined ? { namespace: checkNamespace(options.namespace) } : {}),
    createNamespace: options.createNamespace ?? false,
    role: checkRole(options.role ?? 'view'),
    days: checkDays(options.days ?? String(DEFAULT_DAYS)),
  };
}
