import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { DASHBOARD_KINDS, DASHBOARD_USER } from '../components/addons/dashboard.js';
import { APISERVER_PORT } from '../components/kubeconfig.js';
import { needsLocalBalancer } from '../components/kubernetes/haproxy.js';
import { HostPool } from '../engine/pool.js';
import { InputError, InterruptedError, OperationError, unreachableHosts } from '../errors.js';
import { openTunnel, type TunnelTarget } from '../kube/tunnel.js';
import type { StreamOpener } from '../kube/types.js';
import { becomePassword, globals, interruptSignal, say } from './cli-helpers.js';
import { type Cluster, openCluster } from './context.js';

/** The TokenRequest API's shortest expiry (10 minutes). */
const MIN_SECONDS = 600;
/** A dashboard token is for a session: a day at most, so none outlives the day it was handed out. */
const MAX_SECONDS = 86_400;
const REQUEST_TIMEOUT_MS = 30_000;

/** `1h`, `30m`, `1h30m`, `900s` → seconds, between MIN_SECONDS and MAX_SECONDS. */
export function parseDuration(text: string): number {
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
  if (!text || !match)
    throw new InputError(`--duration: '${text}' is not a duration such as 1h, 30m, 1h30m or 900s`);
  const [h = 0, m = 0, s = 0] = match.slice(1).map((part) => Number(part ?? 0));
  const seconds = h * 3600 + m * 60 + s;
  if (seconds < MIN_SECONDS || seconds > MAX_SECONDS)
    throw new InputError(`--duration: must be between 10m (the API's minimum) and 24h, not ${text}`);
  return seconds;
}

export interface IssuedToken {
  token: string;
  expires: Date;
}

/**
 * A token of `serviceAccount` through the TokenRequest API, reached through conn (an SSH connection to a
 * master) at target, as the kubeconfig's identity. Nothing stores it: it lives until it expires.
 */
export async function requestServiceAccountToken(
  conn: StreamOpener,
  kubeconfig: string,
  target: TunnelTarget,
  request: { namespace: string; serviceAccount: string; seconds: number },
  signal?: AbortSignal,
): Promise<IssuedToken> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  try {
    kc.loadFromString(kubeconfig);
  } catch {
    // client-node's message may quote the file, and the file holds a private key.
    throw new InputError('the admin kubeconfig cannot be read as a kubeconfig');
  }
  const tunnel = await openTunnel(conn, target);
  const deadline = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
  const configuration = k8s.createConfiguration({
    baseServer: new k8s.ServerConfiguration(tunnel.url, {}),
    authMethods: { default: kc },
    promiseMiddleware: [
      {
        pre: async (context) => {
          context.setSignal(signal ? AbortSignal.any([signal, deadline]) : deadline);
          return context;
        },
        post: async (response) => response,
      },
    ],
  });
  const { namespace, serviceAccount, seconds } = request;
  try {
    const answer = await new k8s.CoreV1Api(configuration).createNamespacedServiceAccountToken({
      name: serviceAccount,
      namespace,
      body: { spec: { audiences: [], expirationSeconds: seconds } },
    });
    const { token, expirationTimestamp } = answer.status ?? {};
    if (!token || !expirationTimestamp) throw new Error('the TokenRequest answer holds no token');
    return { token, expires: new Date(expirationTimestamp) };
  } catch (error) {
    if (signal?.aborted) throw new InterruptedError();
    if (error instanceof k8s.ApiException && error.code === 404)
      throw new OperationError(
        `the ServiceAccount ${namespace}/${serviceAccount} does not exist`,
        'the dashboard addon creates it: run kubesmith setup <cluster> addons',
      );
    const why = error instanceof k8s.ApiException ? `HTTP ${error.code}` : (error as Error).message;
    const where = tunnel.lastFailure();
    throw new OperationError(
      `cannot request a token for ${namespace}/${serviceAccount}: ${why}${where ? ` (on the host: ${where})` : ''}`,
    );
  } finally {
    await tunnel.close();
  }
}

/** The deploy machine's admin kubeconfig, which `setup` writes. */
async function adminKubeconfig(cluster: Cluster, name: string): Promise<string> {
  const file = join(cluster.paths.dir, 'kubeconfig');
  try {
    return await readFile(file, 'utf8');
  } catch {
    throw new InputError(
      `no admin kubeconfig at ${file}: the cluster is not set up from this machine; run kubesmith setup ${name}`,
    );
  }
}

/** A dashboard token for the inventory's cluster, through the first master that answers. */
export async function dashboardToken(
  cluster: Cluster,
  options: { seconds: number; becomePassword?: string; signal?: AbortSignal },
): Promise<IssuedToken> {
  const { inventory, file } = cluster.loaded;
  const name = inventory.cluster.name;
  const settings = inventory.addons.dashboard;
  if (!settings.enabled) {
    const message = `is false: no dashboard is installed; set addons.dashboard.enabled: true and run 'kubesmith setup ${name} addons'`;
    throw new InputError('the dashboard addon is disabled', [
      { file, path: 'addons.dashboard.enabled', message },
    ]);
  }
  const kubeconfig = await adminKubeconfig(cluster, name);
  const masters = inventory.hosts.filter((h) => h.roles.includes('master'));
  const pool = await HostPool.connect(cluster.loaded, masters, {
    knownHostsFile: cluster.paths.knownHosts,
    concurrency: inventory.ssh.concurrency,
    becomePassword: options.becomePassword,
    signal: options.signal,
  });
  try {
    const via = masters.find((h) => pool.has(h.name));
    if (!via) throw unreachableHosts(pool.failures, 'reach the Kubernetes API');
    const target = needsLocalBalancer(inventory)
      ? { host: '127.0.0.1', port: APISERVER_PORT }
      : { host: via.address, port: APISERVER_PORT };
    const { namespace } = DASHBOARD_KINDS[settings.kind];
    return await requestServiceAccountToken(
      pool.get(via.name),
      kubeconfig,
      target,
      { namespace, serviceAccount: DASHBOARD_USER, seconds: options.seconds },
      options.signal,
    );
  } finally {
    pool.close();
  }
}

/** How to open the dashboard from the deploy machine, for stderr. */
function howToOpen(cluster: Cluster, expires: Date): string[] {
  const { kind, role } = cluster.loaded.inventory.addons.dashboard;
  const { namespace, access } = DASHBOARD_KINDS[kind];
  const kubeconfig = join(cluster.paths.dir, 'kubeconfig');
  return [
    `token of ${namespace}/${DASHBOARD_USER} (ClusterRole ${role}), valid until ${expires.toISOString()}`,
    `open ${kind}: kubectl --kubeconfig ${kubeconfig} -n ${namespace} port-forward service/${access.service} ${access.localPort}:${access.servicePort}`,
    `then browse to ${access.scheme}://localhost:${access.localPort}/ and paste the token${access.scheme === 'https' ? ' (the certificate is self-signed)' : ''}`,
  ];
}

/** dashboard-token: the token alone on stdout, so `$(kubesmith dashboard-token CLUSTER)` works; the rest on stderr. */
export function registerDashboardTokenCommand(program: Command): void {
  program
    .command('dashboard-token')
    .description("print a short-lived token for the dashboard addon's ServiceAccount (nothing stores it)")
    .argument('[cluster]', 'cluster name (or use -i FILE)')
    .option('--duration <duration>', 'how long the token is valid: 10m to 24h, e.g. 30m, 1h30m', '1h')
    .action(async (name: string | undefined, options: { duration: string }, cmd: Command) => {
      const seconds = parseDuration(options.duration);
      const cluster = await openCluster(name, globals(cmd));
      const issued = await dashboardToken(cluster, {
        seconds,
        becomePassword: await becomePassword(cmd),
        signal: interruptSignal(),
      });
      process.stdout.write(`${issued.token}\n`);
      for (const line of howToOpen(cluster, issued.expires)) say(line);
    });
}
