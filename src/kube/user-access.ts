import { z } from 'zod';
import type { KubeApi, KubeObject } from './types.js';

/** The ClusterRoles a user kubesmith issues may be bound to (Kubernetes' own user-facing roles). */
export const USER_ROLES = ['admin', 'edit', 'view'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** The label that marks a binding (or a namespace) kubesmith made for a user; its value is the user. */
export const USER_LABEL = 'kubesmith.io/user';
const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'kubesmith' };
export const RBAC_API = 'rbac.authorization.k8s.io/v1';
const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** Where a user's role holds: one namespace, or the whole cluster. */
export interface UserGrant {
  user: string;
  role: UserRole;
  /** The RoleBinding's namespace; undefined means a ClusterRoleBinding. */
  namespace?: string;
}

/** The binding's name, the same in every namespace (one binding per user and scope). */
export const userBindingName = (user: string) => `kubesmith:user:${user}`;

/** The RoleBinding (namespace given) or ClusterRoleBinding that gives the user its ClusterRole. */
export function userBinding(grant: UserGrant): KubeObject {
  const kind = grant.namespace ? 'RoleBinding' : 'ClusterRoleBinding';
  return {
    apiVersion: RBAC_API,
    kind,
    metadata: {
      name: userBindingName(grant.user),
      ...(grant.namespace ? { namespace: grant.namespace } : {}),
      labels: { ...MANAGED_BY, [USER_LABEL]: grant.user },
    },
    roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: grant.role },
    subjects: [{ apiGroup: RBAC_GROUP, kind: 'User', name: grant.user }],
  };
}

/** A namespace made for a user's binding (--create-namespace), labelled so it can be told apart. */
export function userNamespace(name: string, user: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { ...MANAGED_BY, [USER_LABEL]: user } },
  };
}

export const BINDING_KINDS = [
  { apiVersion: RBAC_API, kind: 'ClusterRoleBinding' },
  { apiVersion: RBAC_API, kind: 'RoleBinding' },
] as const;

/** The label selector of what kubesmith made for users: all of them, or one user's. */
export const userSelector = (user?: string) => (user ? `${USER_LABEL}=${user}` : USER_LABEL);

const bindingSchema = z
  .object({
    kind: z.enum(['RoleBinding', 'ClusterRoleBinding']),
    metadata: z
      .object({
        name: z.string(),
        namespace: z.string().optional(),
        labels: z.record(z.string(), z.string()),
      })
      .loose(),
    roleRef: z.object({ kind: z.string(), name: z.string() }).loose(),
  })
  .loose();

/** A binding kubesmith made for a user, as read from the API. */
export interface UserBinding {
  user: string;
  kind: 'RoleBinding' | 'ClusterRoleBinding';
  name: string;
  namespace?: string;
  /** The ClusterRole it names (admin, edit, view, or whatever someone changed it to). */
  role: string;
}

/** The bindings among objects that carry the user label, read as data; others are left out. */
export function readUserBindings(objects: readonly KubeObject[]): UserBinding[] {
  const bindings: UserBinding[] = [];
  for (const object of objects) {
    const parsed = bindingSchema.safeParse(object);
    const user = parsed.data?.metadata.labels[USER_LABEL];
    if (!parsed.success || !user) continue;
    const { kind, metadata, roleRef } = parsed.data;
    bindings.push({
      user,
      kind,
      name: metadata.name,
      ...(metadata.namespace ? { namespace: metadata.namespace } : {}),
      role: roleRef.name,
    });
  }
  return bindings.sort(
    (a, b) => a.user.localeCompare(b.user) || (a.namespace ?? '').localeCompare(b.namespace ?? ''),
  );
}

/** Where a binding holds, for people: `namespace dev` or `the whole cluster`. */
export const scopeOf = (binding: Pick<UserBinding, 'namespace'>) =>
  binding.namespace ? `namespace ${binding.namespace}` : 'the whole cluster';

/** Whether an existing binding names another role: a roleRef cannot change, so it is replaced. */
export function needsReplacing(existing: KubeObject | undefined, wanted: UserGrant): boolean {
  if (!existing) return false;
  const roleRef = z.object({ name: z.string() }).loose().safeParse(existing.roleRef);
  return !roleRef.success || roleRef.data.name !== wanted.role;
}

/** The bindings kubesmith made for users (or for one user), in every namespace and cluster-wide. */
export async function listUserBindings(api: KubeApi, user?: string): Promise<UserBinding[]> {
  const objects: KubeObject[] = [];
  for (const { apiVersion, kind } of BINDING_KINDS)
    objects.push(...(await api.list(apiVersion, kind, undefined, userSelector(user))));
  return readUserBindings(objects);
}

/** The namespaces made for a user with --create-namespace (its own, or every user's). */
export async function listUserNamespaces(api: KubeApi, user?: string): Promise<string[]> {
  const namespaces = await api.list('v1', 'Namespace', undefined, userSelector(user));
  return namespaces.map((ns) => ns.metadata.name).sort();
}
