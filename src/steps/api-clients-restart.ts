import type { DeployStep } from '../engine/step.js';
import { OperationError } from '../errors.js';
import { withClusterApi } from '../hostlib/kube-api.js';
import { kubernetesPki } from '../hostlib/kubernetes-pki.js';
import {
  type ApiClientWorkload,
  apiClientWorkloads,
  unownedApiClientPods,
  waitStatefulSetRolledOut,
} from '../kube/api-clients.js';
import { pollUntil } from '../kube/poll.js';
import type { KubeApi } from '../kube/types.js';
import { CA } from '../pki/spec.js';

const PUBLISH_TIMEOUT_MS = 180_000;
const ROLLOUT_TIMEOUT_MS = 300_000;
const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
const SHOWN = 10;

const named = (list: readonly ApiClientWorkload[]) =>
  list.map((w) => `${w.kind} ${w.namespace}/${w.name}`).join(', ') || 'none';
const some = (list: readonly string[]) =>
  `${list.slice(0, SHOWN).join(', ')}${list.length > SHOWN ? `, and ${list.length - SHOWN} more` : ''}`;

/**
 * Waits until kube-controller-manager has published ca.crt as the hosts now trust it in every
 * namespace (it updates them one by one); the namespaces still behind, when it gives up.
 */
async function waitRootCaPublished(api: KubeApi, wanted: string, signal?: AbortSignal): Promise<string[]> {
  let behind: string[] = [];
  await pollUntil(
    async () => {
      const maps = await api.list('v1', 'ConfigMap');
      behind = maps
        .filter((m) => m.metadata.name === ROOT_CA_CONFIGMAP)
        .filter((m) => ((m.data ?? {}) as Record<string, string>)['ca.crt']?.trim() !== wanted.trim())
        .map((m) => m.metadata.namespace!);
      return behind.length === 0;
    },
    { timeoutMs: PUBLISH_TIMEOUT_MS, signal },
  );
  return behind;
}

async function waitRolledOut(api: KubeApi, w: ApiClientWorkload, signal?: AbortSignal): Promise<void> {
  const wait = { timeoutMs: ROLLOUT_TIMEOUT_MS, signal };
  if (w.kind === 'Deployment') return api.waitDeploymentReady(w.namespace, w.name, wait);
  if (w.kind === 'DaemonSet') return api.waitDaemonSetReady(w.namespace, w.name, wait);
  if (!(await waitStatefulSetRolledOut(api, w.namespace, w.name, wait)))
    throw new OperationError(
      `StatefulSet ${w.namespace}/${w.name} did not roll out ${ROLLOUT_TIMEOUT_MS / 1000} s after its restart`,
      `kubectl -n ${w.namespace} rollout status statefulset/${w.name}; re-running certs renew --ca continues here`,
    );
}

/**
 * CA rotation, after every host trusts both CAs: pods read their ca.crt once, when they start, so
 * every Deployment, DaemonSet and StatefulSet whose pods get a service-account token is restarted
 * (as `kubectl rollout restart`) once kube-controller-manager has published the bundle, and the
 * ones that were ready are waited for: when the new CAs start signing, their API clients trust
 * them. What a restart cannot reach (bare pods, workloads that do not roll) is named.
 */
export const apiClientsRestart: DeployStep = {
  id: 'api-clients-restart',
  title: 'API clients in pods restarted, so that they trust the new CA (pods read ca.crt when they start)',
  onDeployMachine: true,
  async run(ctx) {
    if (ctx.dryRun) return ctx.log('would restart every workload whose pods mount a token');
    const { pki } = await kubernetesPki(ctx);
    await withClusterApi(ctx, async (api, via) => {
      const behind = await waitRootCaPublished(api, pki.trust(CA.kubernetes), ctx.signal);
      if (behind.length)
        throw new OperationError(
          `${ROOT_CA_CONFIGMAP} does not hold the CA bundle in ${some(behind)} ${PUBLISH_TIMEOUT_MS / 1000} s after the controller-managers restarted`,
          'journalctl -u kube-controller-manager on the masters says why; re-running certs renew --ca continues here',
        );
      const workloads = await apiClientWorkloads(api);
      const rolling = workloads.filter((w) => w.rolls);
      const restarted = (
        await Promise.all(
          rolling.map(async (w) => ((await api.restartWorkload(w.kind, w.namespace, w.name)) ? [w] : [])),
        )
      ).flat();
      if (restarted.length) ctx.changed(via.name);
      await Promise.all(restarted.filter((w) => w.readyBefore).map((w) => waitRolledOut(api, w, ctx.signal)));
      ctx.log(`restarted and ready: ${named(restarted.filter((w) => w.readyBefore))}`);
      const unready = restarted.filter((w) => !w.readyBefore);
      if (unready.length) ctx.log(`restarted, not waited for (not ready before): ${named(unready)}`);
      const still = workloads.filter((w) => !w.rolls);
      if (still.length)
        ctx.log(
          `not restarted (paused or OnDelete): ${named(still)}: their pods keep the ca.crt they started with`,
        );
      const bare = await unownedApiClientPods(api);
      if (bare.length)
        ctx.log(
          `pods no workload restarts (their processes read ca.crt when they started; recreate those that call the API): ${some(bare)}`,
        );
    });
  },
};
