import { renderKubeconfig } from '../components/kubeconfig.js';
import { userServerUrl } from '../components/kubernetes/kubeconfigs.js';
import { InputError } from '../errors.js';
import type { Inventory } from '../inventory/schema.js';
import { describeCert, issue, type KeyPair } from './x509.js';

const DAY_MS = 86_400_000;

export interface UserCertRequest {
  /** The certificate's CN: the user name Kubernetes authenticates. */
  user: string;
  /** The certificate's O: a group Kubernetes adds to the user's groups. */
  group?: string;
  days: number;
}

/**
 * A client certificate for a person, signed by the cluster CA (the pair from pki/). Refused when
 * it would outlive the CA: the apiserver would stop trusting it before its end anyway.
 */
export async function issueUserCert(
  ca: KeyPair,
  request: UserCertRequest,
  now = Date.now(),
): Promise<KeyPair> {
  const caExpires = describeCert(ca.certPem).notAfter;
  if (now + request.days * DAY_MS > caExpires.getTime())
    throw new InputError(
      `--days: ${request.days} days would outlive the cluster CA, which expires on ${caExpires.toISOString().slice(0, 10)}; ask for fewer days`,
    );
  return issue(
    {
      commonName: request.user,
      ...(request.group ? { organization: request.group } : {}),
      usages: ['client'],
      validityDays: request.days,
    },
    ca,
  );
}

/** The user's kubeconfig: the CA, its certificate and key embedded, the server a user off the cluster reaches. */
export function userKubeconfig(inventory: Inventory, caPem: string, user: string, pair: KeyPair): string {
  return renderKubeconfig({
    clusterName: inventory.cluster.name,
    server: userServerUrl(inventory),
    caPem,
    user,
    certPem: pair.certPem,
    keyPem: pair.keyPem,
  });
}

/** What a user certificate says about who it is and until when (never its key). */
export interface UserCertFacts {
  user: string;
  groups: string[];
  notAfter: Date;
}

export function userCertFacts(certPem: string): UserCertFacts {
  const facts = describeCert(certPem);
  const parts = facts.subject.split('\n');
  const values = (prefix: string) =>
    parts.filter((p) => p.startsWith(prefix)).map((p) => p.slice(prefix.length));
  return { user: values('CN=')[0] ?? '', groups: values('O='), notAfter: facts.notAfter };
}
