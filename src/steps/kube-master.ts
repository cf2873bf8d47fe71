import { APISERVER_PORT } from '../components/kubeconfig.js';
import { apiserverFlags } from '../components/kubernetes/apiserver.js';
import { controllerManagerFlags } from '../components/kubernetes/controller-manager.js';
import { controlPlaneEndpoints, waitHealthyScript } from '../components/kubernetes/health.js';
import { controlPlaneFiles } from '../components/kubernetes/host-files.js';
import { K8S_PATHS, K8S_PKI, unitPath } from '../components/kubernetes/paths.js';
import { schedulerFlags } from '../components/kubernetes/scheduler.js';
import { servesCertificate } from '../components/kubernetes/served-certificate.js';
import type { Resource, ServiceResource } from '../engine/resources.js';
import { oneAtATime } from '../engine/shared.js';
import type { Step, StepContext } from '../engine/step.js';
import { OperationError } from '../errors.js';
import { archOf, artifactsFor, binaryResources } from '../hostlib/artifacts.js';
import { balancerResources, fileResource, flagInputs } from '../hostlib/balancer.js';
import { kubernetesPki } from '../hostlib/kubernetes-pki.js';
import { clusterMarker } from '../hostlib/marker.js';
import { sectionedRead } from '../hostlib/sections.js';
import { INSTALLED_VERSION_FILE, recordInstalled, refuseDowngrade } from '../upgrade/installed.js';
import { refuseDuringUpgrade } from '../upgrade/marker.js';

export const CONTROL_PLANE_BINARIES = [
  'bin/kube-apiserver',
  'bin/kube-controller-manager',
  'bin/kube-scheduler',
  'bin/kubectl',
];
const HEALTH_TIMEOUT_SECONDS = 120;
/**
 * kube-apiserver reads its serving certificate and key again when the files change (its dynamic
 * serving certificate), so new names (add-master, del-master) need no restart.
 */
const SERVING_PAIR: readonly string[] = [K8S_PATHS.apiserverCert, K8S_PATHS.apiserverKey];
/** Its file watch notices within a second or two; after this it is restarted instead. */
const SERVING_RELOAD_TIMEOUT_MS = 30_000;

const read = sectionedRead([
  ['uname', 'uname -m'],
  ['installed', `cat ${INSTALLED_VERSION_FILE} 2>/dev/null || true`],
  ['active', 'systemctl is-active kube-apiserver.service || true'],
]);

export const kubeMaster: Step = {
  id: 'kube-master',
  title: 'Control plane: kube-apiserver, kube-controller-manager, kube-scheduler, local balancer',
  async preflight(ctx) {
    await refuseDuringUpgrade(ctx);
    for (const arch of ctx.arches) await artifactsFor(ctx, arch, CONTROL_PLANE_BINARIES);
    await kubernetesPki(ctx);
  },
  async run(ctx) {
    const { host, inventory } = ctx;
    const seen = read.parse((await ctx.read(['sh', '-c', read.script])).stdout);
    const binaries = await artifactsFor(ctx, archOf(seen.get('uname')?.trim() ?? ''), CONTROL_PLANE_BINARIES);
    const version = binaries.get('bin/kube-apiserver')!.version;
    const installed = seen.get('installed') ?? '';
    refuseDowngrade(host.name, installed, version);
    const { pki, encryptionKey } = await kubernetesPki(ctx);
    const files = controlPlaneFiles(host, inventory, { version, pki, encryptionKey });
    // The binary too: a bundle rebuilt at the same version changes nothing else.
    const restartOn = (service: string, flags: string[], ...more: string[]) => [
      unitPath(service),
      `${inventory.artifacts.binDir}/${service}`,
      ...flagInputs(flags, files),
      ...more,
    ];
    const resources: Resource[] = [
      clusterMarker(inventory),
      ...binaryResources(ctx, binaries.values()),
      { kind: 'directory', path: K8S_PKI, mode: 0o755 },
      { kind: 'directory', path: `${K8S_PKI}/etcd`, mode: 0o755 },
      { kind: 'directory', path: '/var/log/kubernetes/audit', mode: 0o700 },
      ...files.map(fileResource),
      ...balancerResources(inventory),
      service(
        'kube-apiserver',
        restartOn('kube-apiserver', apiserverFlags(version, host, inventory)).filter(
          (path) => !SERVING_PAIR.includes(path),
        ),
      ),
      service(
        'kube-controller-manager',
        restartOn('kube-controller-manager', controllerManagerFlags(version, inventory)),
      ),
      // Its config file names its kubeconfig.
      service(
        'kube-scheduler',
        restartOn('kube-scheduler', schedulerFlags(version), K8S_PATHS.schedulerKubeconfig),
      ),
    ];
    // A running control plane restarts one master at a time, each healthy before the next; a
    // failed turn stops the roll. A new one starts everywhere at once.
    const servingCert = files.find((f) => f.path === K8S_PATHS.apiserverCert)!.content;
    const apply = () => applyAndWait(ctx, resources, servingCert);
    if (seen.get('active')?.trim() === 'active')
      await oneAtATime(ctx.shared, 'kube-master-restart', host.name, apply);
    else await apply();
    await recordInstalled(ctx, installed, version);
  },
  async verify(ctx) {
    await waitHealthy(ctx, 10);
  },
};

function service(name: string, restartOn: string[]): ServiceResource {
  return { kind: 'service', name, enabled: true, state: 'started', restartOn };
}

async function applyAndWait(ctx: StepContext, resources: Resource[], servingCert: string): Promise<void> {
  const results = await ctx.apply(resources);
  if (ctx.dryRun) return;
  if (results.some((r) => r.kind === 'service' && r.status === 'changed'))
    await waitHealthy(ctx, HEALTH_TIMEOUT_SECONDS);
  // Every run, not only one that changed the files: a run cut off while it waited owes the check.
  await presentsInstalledCertificate(ctx, servingCert);
}

/** The apiserver presents the certificate installed; one that does not pick it up is restarted. */
async function presentsInstalledCertificate(ctx: StepContext, pem: string): Promise<void> {
  const address = { host: ctx.host.address, port: APISERVER_PORT };
  // Returns at the first look that finds it: the wait only runs out when something is wrong.
  const look = () =>
    servesCertificate(ctx.conn, address, pem, { timeoutMs: SERVING_RELOAD_TIMEOUT_MS, signal: ctx.signal });
  const unreadable = (why: string) =>
    new OperationError(
      `${ctx.host.name}: the certificate kube-apiserver presents at ${address.host}:${APISERVER_PORT} could not be read: ${why}`,
      'the control plane answered its health checks; is socat installed (setup 01)? run the command again',
    );
  let seen = await look();
  if (seen.status === 'presents') return;
  if (seen.status === 'unreadable') throw unreadable(seen.why);
  ctx.log(
    `${ctx.host.name}: kube-apiserver presents another certificate than ${K8S_PATHS.apiserverCert}; restarting it`,
  );
  const restart = await ctx.conn.exec(['systemctl', 'restart', 'kube-apiserver.service'], {
    signal: ctx.signal,
  });
  if (restart.exitCode !== 0)
    throw new OperationError(
      `${ctx.host.name}: systemctl restart kube-apiserver failed: ${restart.stderr.trim()}`,
      'journalctl -u kube-apiserver on the host says why',
    );
  await waitHealthy(ctx, HEALTH_TIMEOUT_SECONDS);
  seen = await look();
  if (seen.status === 'unreadable') throw unreadable(seen.why);
  if (seen.status === 'another')
    throw new OperationError(
      `${ctx.host.name}: kube-apiserver presents another certificate than ${K8S_PATHS.apiserverCert}, also after a restart`,
      `compare its --tls-cert-file in ${unitPath('kube-apiserver')} with that file`,
    );
}

async function waitHealthy(ctx: StepContext, seconds: number): Promise<void> {
  const script = waitHealthyScript(controlPlaneEndpoints(ctx.host), seconds);
  const result = await ctx.conn.exec(['sh', '-c', script], { signal: ctx.signal });
  if (result.exitCode !== 0)
    throw new OperationError(
      `${ctx.host.name}: the control plane is not healthy after ${seconds} s:\n${result.stderr.trim()}`,
      'read the lines above; journalctl -u kube-apiserver on the host has the rest',
    );
}
