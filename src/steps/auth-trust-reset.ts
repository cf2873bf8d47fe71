import { certInfo, pemCertificates } from '../certs/read.js';
import type { DeployStep } from '../engine/step.js';
import { OperationError } from '../errors.js';
import { withClusterApi } from '../hostlib/kube-api.js';
import { kubernetesPki } from '../hostlib/kubernetes-pki.js';
import { pollUntil } from '../kube/poll.js';
import { CA } from '../pki/spec.js';

const CONFIGMAP = 'extension-apiserver-authentication';
const TIMEOUT_MS = 120_000;

const fingerprints = (pem: string | undefined) =>
  [...new Set(pemCertificates(pem ?? '').map((p) => certInfo(p).fingerprint))].sort().join();

/**
 * CA rotation, drop-old, once every apiserver trusts the new CAs alone: the apiservers merge their
 * client CAs into kube-system/extension-apiserver-authentication and drop one only when it expires,
 * so aggregated API servers (metrics-server) would keep trusting the old CAs. The ConfigMap is
 * deleted; the apiservers write it again from their files, which is waited for.
 */
export const authTrustReset: DeployStep = {
  id: 'auth-trust-reset',
  title: `${CONFIGMAP} rewritten by the apiservers with the new CAs only (aggregated APIs read it)`,
  onDeployMachine: true,
  async run(ctx) {
    if (ctx.dryRun) return ctx.log(`would delete kube-system/${CONFIGMAP} for the apiservers to write again`);
    const { pki } = await kubernetesPki(ctx);
    const wanted = {
      client: fingerprints(pki.trust(CA.kubernetes)),
      requestheader: fingerprints(pki.trust(CA.frontProxy)),
    };
    await withClusterApi(ctx, async (api, via) => {
      const current = async () => {
        const map = await api.get('v1', 'ConfigMap', CONFIGMAP, 'kube-system');
        const data = (map?.data ?? {}) as Record<string, string>;
        return (
          fingerprints(data['client-ca-file']) === wanted.client &&
          fingerprints(data['requestheader-client-ca-file']) === wanted.requestheader
        );
      };
      if (await current()) return ctx.log(`${CONFIGMAP} holds the new CAs only already`);
      await api.delete('v1', 'ConfigMap', CONFIGMAP, 'kube-system');
      ctx.changed(via.name);
      if (!(await pollUntil(current, { timeoutMs: TIMEOUT_MS, signal: ctx.signal })))
        throw new OperationError(
          `the apiservers did not write kube-system/${CONFIGMAP} with the new CAs alone within ${TIMEOUT_MS / 1000} s`,
          'journalctl -u kube-apiserver on the masters says why; re-running certs renew --ca continues here',
        );
      ctx.log(`${CONFIGMAP} written again by the apiservers with the new CAs only`);
    });
  },
};
