import { dataKey } from '../engine/run-data.js';
import type { UserCertFacts } from '../pki/user-cert.js';
import type { UserBinding, UserGrant } from './user-access.js';

/** What the kubeconfig command and its phases (src/steps/user-*.ts) hand each other. */

export interface GrantRequest extends UserGrant {
  group?: string;
  days: number;
  /** Create the namespace when it does not exist (else that is refused, so a typo creates nothing). */
  createNamespace: boolean;
}
/** kubeconfig --user: what to issue and bind. */
export const GRANT_REQUEST = dataKey<GrantRequest>('user:grant-request');

export interface GrantResult {
  kubeconfigFile: string;
  notAfter: Date;
  namespaceCreated: boolean;
  binding: 'created' | 'changed' | 'unchanged' | 'replaced';
  /** The certificate this one replaced in the local record: it stays valid until it expires. */
  replaced?: UserCertFacts;
  /** Every binding the user holds now (this one and those of earlier grants). */
  bindings: UserBinding[];
}
export const GRANT_RESULT = dataKey<GrantResult>('user:grant-result');

/** kubeconfig --list / the plan of --revoke: one user's bindings, or every user's when unset. */
export const LIST_USER = dataKey<string | undefined>('user:list-user');
export interface UserAccess {
  bindings: UserBinding[];
  /** Namespaces made for users with --create-namespace (revoking leaves them). */
  namespaces: string[];
}
export const USER_ACCESS = dataKey<UserAccess>('user:access');

/** kubeconfig --revoke: the user whose bindings go. */
export const REVOKE_USER = dataKey<string>('user:revoke-user');
export interface RevokeResult {
  removed: UserBinding[];
  kubeconfigRemoved: boolean;
  /** Namespaces made for the user, left in place (they may hold workloads). */
  namespacesLeft: string[];
}
export const REVOKE_RESULT = dataKey<RevokeResult>('user:revoke-result');
