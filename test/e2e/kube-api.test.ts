import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { requestServiceAccountToken } from '../../src/commands/dashboard-token.js';
import { DASHBOARD_USER, dashboardObjects } from '../../src/components/addons/dashboard.js';
import { kubeconfigFor } from '../../src/components/kubernetes/kubeconfigs.js';
import { InterruptedError, OperationError } from '../../src/errors.js';
import { inventorySchema } from '../../src/inventory/schema.js';
import { openKubeApi } from '../../src/kube/api.js';
import type { KubeApi, KubeObject } from '../../src/kube/types.js';
import { clusterCerts, K8S_CERT } from '../../src/pki/kubernetes-spec.js';
import { CA } from '../../src/pki/spec.js';
import { ensurePki, type Pki } from '../../src/pki/store.js';
import { KnownHosts } from '../../src/transport/known-hosts.js';
import { SshConnection } from '../../src/transport/ssh.js';
import { skipWithout } from '../helpers/prerequisite.js';
import { freePort, sshdUnavailable, TestSshd } from '../helpers/sshd.js';
import { LAB_BUNDLE } from './harness.js';

/**
 * The API client against a real kube-apiserver (and etcd) from the lab bundle, reached the way
 * kubesmith reaches a master's: an SSH connection (a real sshd on loopback) running socat.
 * No controller-manager and no kubelet run, so nothing ever becomes ready.
 */
const BIN = join(LAB_BUNDLE, 'bin');
const unavailable = skipWithout(
  'Kubernetes API client e2e',
  (existsSync(join(BIN, 'kube-apiserver'))
    ? undefined
    : `no ${BIN}/kube-apiserver (the e2e global setup builds it: kubesmith lab build)`) ??
    sshdUnavailable() ??
    (existsSync('/usr/bin/socat') ? undefined : 'no socat (apt-get install socat)'),
);

const NS = 'kubesmith-e2e';
const inv = inventorySchema.parse({
  cluster: { name: 'api-e2e' },
  hosts: [{ name: 'm1', address: '10.0.0.1', roles: ['etcd', 'master'] }],
});

function start(binary: string, args: string[]): ChildProcess {
  const child = spawn(join(BIN, binary), args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  child.stderr?.on('data', (d: Buffer) => {
    tail = (tail + d.toString()).slice(-4000);
  });
  child.on('exit', (code) => {
    if (code) console.error(`${binary} exited ${code}: ${tail}`);
  });
  return child;
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** /readyz straight from the apiserver (not through the tunnel), as the super-admin. */
function readyz(pki: Pki, port: number): Promise<number> {
  const { certPem: cert, keyPem: key } = pki.get(K8S_CERT.superAdmin);
  return new Promise((resolve) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path: '/readyz',
      ca: pki.get(CA.kubernetes).certPem,
      cert,
      key,
    });
    req.on('response', (res) => resolve(res.resume().statusCode ?? 0)).on('error', () => resolve(0));
    req.end();
  });
}

const socats = async (port: number) =>
  (await execa('ps', ['-eo', 'args='])).stdout.split('\n').filter((l) => l.includes(`TCP:127.0.0.1:${port}`));

describe.skipIf(unavailable)(
  'the Kubernetes API over SSH and socat, against a real kube-apiserver 1.34',
  () => {
    let dir = '';
    let apiPort = 0;
    let etcd: ChildProcess | undefined;
    let apiserver: ChildProcess | undefined;
    let sshd: TestSshd;
    let conn: SshConnection;
    let kubeconfig = '';
    let api: KubeApi;
    const kubectl = (...args: string[]) =>
      execa(join(BIN, 'kubectl'), ['--kubeconfig', join(dir, 'kubeconfig'), ...args]);

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'ks-kube-api-'));
      const pki = await ensurePki(join(dir, 'pki'), clusterCerts(inv), { persist: true });
      const [clientPort, peerPort] = [await freePort(), await freePort()];
      apiPort = await freePort();
      etcd = start('etcd', [
        '--name=e2e',
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=http://127.0.0.1:${clientPort}`,
        `--advertise-client-urls=http://127.0.0.1:${clientPort}`,
        `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-cluster=e2e=http://127.0.0.1:${peerPort}`,
        '--unsafe-no-fsync',
        '--log-level=warn',
      ]);
      const file = (name: string) => join(dir, 'pki', name);
      apiserver = start('kube-apiserver', [
        `--etcd-servers=http://127.0.0.1:${clientPort}`,
        `--secure-port=${apiPort}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--tls-cert-file=${file('apiserver.crt')}`,
        `--tls-private-key-file=${file('apiserver.key')}`,
        `--client-ca-file=${file('ca.crt')}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${file('sa.pub')}`,
        `--service-account-signing-key-file=${file('sa.key')}`,
        `--service-cluster-ip-range=${inv.cluster.network.serviceCidr}`,
        '--authorization-mode=RBAC',
      ]);
      // The kubeconfig kubesmith writes names the local balancer (127.0.0.1:6443): the tunnel goes elsewhere.
      kubeconfig = kubeconfigFor(inv, pki, K8S_CERT.superAdmin);
      const forKubectl = parse(kubeconfig);
      forKubectl.clusters[0].cluster.server = `https://127.0.0.1:${apiPort}`;
      writeFileSync(join(dir, 'kubeconfig'), stringify(forKubectl), { mode: 0o600 });
      sshd = await TestSshd.start();
      conn = await SshConnection.open({
        name: 'm1',
        address: '127.0.0.1',
        port: sshd.port,
        user: 'root',
        identityFile: sshd.clientKey,
        hostKeyPolicy: 'accept-new',
        knownHosts: new KnownHosts(join(sshd.dir, 'known_hosts')),
        connectTimeoutMs: 5000,
      });
      const deadline = Date.now() + 60_000;
      while ((await readyz(pki, apiPort)) !== 200) {
        if (Date.now() > deadline) throw new Error('kube-apiserver did not become ready within 60 s');
        await sleep(500);
      }
      api = await openKubeApi(conn, kubeconfig, { target: { host: '127.0.0.1', port: apiPort } });
    }, 120_000);

    afterAll(async () => {
      await api?.close();
      conn?.close();
      await sshd?.destroy();
      await stop(apiserver);
      await stop(etcd);
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('reads /readyz through the tunnel', async () => {
      expect(await api.rawGet('/readyz')).toEqual({ status: 200, body: 'ok' });
      expect((await api.rawGet('/readyz?verbose')).body).toMatch(/\[\+\]etcd ok/);
      expect((await api.rawGet('/no/such/path')).status).toBe(404);
    });

    const namespace: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } };
    const configMap = (greeting: string): KubeObject => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings', namespace: NS, labels: { app: 'agent' } },
      data: { greeting },
    });
    const daemonSet: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent', namespace: NS },
      spec: {
        selector: { matchLabels: { app: 'agent' } },
        template: {
          metadata: { labels: { app: 'agent' } },
          spec: { containers: [{ name: 'agent', image: 'registry.example/agent:1' }] },
        },
      },
    };

    it('applies: created, then unchanged, then changed only where something changed', async () => {
      const actions = async (objects: KubeObject[]) => (await api.apply(objects)).map((r) => r.action);
      expect(await api.apply([namespace, configMap('hello'), daemonSet])).toEqual([
        { kind: 'Namespace', name: NS, action: 'created' },
        { kind: 'ConfigMap', namespace: NS, name: 'settings', action: 'created' },
        { kind: 'DaemonSet', namespace: NS, name: 'agent', action: 'created' },
      ]);
      expect(await actions([namespace, configMap('hello'), daemonSet])).toEqual([
        'unchanged',
        'unchanged',
        'unchanged',
      ]);
      expect(await actions([namespace, configMap('bonjour'), daemonSet])).toEqual([
        'unchanged',
        'changed',
        'unchanged',
      ]);
    });

    it('gets, lists by label and deletes', async () => {
      expect((await api.get('v1', 'ConfigMap', 'settings', NS))?.data).toEqual({ greeting: 'bonjour' });
      expect(await api.get('v1', 'ConfigMap', 'absent', NS)).toBeUndefined();
      await expect(api.get('example.com/v1', 'Gadget', 'x')).rejects.toThrow(
        /^cannot find Gadget of example.com\/v1 in the API: HTTP 404$/,
      );
      await expect(api.get('v1', 'Gadget', 'x')).rejects.toThrow(
        /Unrecognized API version and kind: v1 Gadget/,
      );
      await api.apply([
        { ...configMap('x'), metadata: { name: 'other', namespace: NS, labels: { app: 'else' } } },
      ]);
      const listed = await api.list('v1', 'ConfigMap', NS, 'app=agent');
      expect(listed.map((o) => [o.kind, o.metadata.name])).toEqual([['ConfigMap', 'settings']]);
      expect((await api.list('v1', 'Namespace')).map((o) => o.metadata.name)).toContain(NS);
      expect(await api.delete('v1', 'ConfigMap', 'other', NS)).toBe(true);
      expect(await api.delete('v1', 'ConfigMap', 'other', NS)).toBe(false);
      expect(await api.get('v1', 'ConfigMap', 'other', NS)).toBeUndefined();
    });

    it('applies a custom resource whose kind a built-in type shares, keeping the fields the built-in lacks', async () => {
      const crd: KubeObject = {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: 'networkpolicies.example.kubesmith.io' },
        spec: {
          group: 'example.kubesmith.io',
          scope: 'Namespaced',
          names: { plural: 'networkpolicies', singular: 'networkpolicy', kind: 'NetworkPolicy' },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
                },
              },
            },
          ],
        },
      };
      expect((await api.apply([crd]))[0]?.action).toBe('created');
      const established = async () => {
        const got = await api.get('apiextensions.k8s.io/v1', 'CustomResourceDefinition', crd.metadata.name);
        const conditions =
          (got?.status as { conditions?: { type: string; status: string }[] })?.conditions ?? [];
        return conditions.some((c) => c.type === 'Established' && c.status === 'True');
      };
      await expect.poll(established, { timeout: 20_000 }).toBe(true);
      // client-node's typed serialiser would send this as a networking.k8s.io NetworkPolicy, dropping `order` and `selector`.
      const policy: KubeObject = {
        apiVersion: 'example.kubesmith.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'allow-dns', namespace: NS },
        spec: { order: 10, selector: 'all()', ingress: [{ action: 'Allow' }] },
      };
      expect(await api.apply([policy])).toEqual([
        { kind: 'NetworkPolicy', namespace: NS, name: 'allow-dns', action: 'created' },
      ]);
      expect((await api.get('example.kubesmith.io/v1', 'NetworkPolicy', 'allow-dns', NS))?.spec).toEqual(
        policy.spec,
      );
    });

    it("sets a node's labels and its own taints, keeps others' taints, and says when nothing changed", async () => {
      await api.apply([{ apiVersion: 'v1', kind: 'Node', metadata: { name: 'w1', labels: { keep: 'me' } } }]);
      const wanted = {
        labels: { 'node-role.kubernetes.io/worker': '', zone: 'a' },
        taints: [{ key: 'dedicated', value: 'infra', effect: 'NoSchedule' as const }],
      };
      expect(await api.patchNode('w1', wanted)).toBe(true);
      expect(await api.patchNode('w1', wanted)).toBe(false);
      await kubectl('taint', 'nodes', 'w1', 'theirs=x:NoExecute');
      // zone was kubesmith's and is no longer asked for: removed; keep was never kubesmith's: kept.
      expect(
        await api.patchNode('w1', { labels: { 'node-role.kubernetes.io/worker': '' }, taints: [] }),
      ).toBe(true);
      const node = await api.get('v1', 'Node', 'w1');
      expect(node?.metadata.labels).toMatchObject({ keep: 'me', 'node-role.kubernetes.io/worker': '' });
      expect(node?.metadata.labels).not.toHaveProperty('zone');
      const taints = (node!.spec as { taints: { key: string }[] }).taints.map((t) => t.key);
      // node.kubernetes.io/not-ready: the apiserver's TaintNodesByCondition admission, on creation.
      expect(taints.sort()).toEqual(['node.kubernetes.io/not-ready', 'theirs']);
      expect(await api.patchNode('w1', { taints: [] })).toBe(false);
    });

    it("times out on a DaemonSet that never becomes ready, naming it and each pod's trouble", async () => {
      const owner = await api.get('apps/v1', 'DaemonSet', 'agent', NS);
      const pod = (name: string, node: string): KubeObject => ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name,
          namespace: NS,
          labels: { app: 'agent' },
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'DaemonSet',
              name: 'agent',
              uid: owner?.metadata.uid,
              controller: true,
            },
          ],
        },
        spec: { nodeName: node, containers: [{ name: 'agent', image: 'registry.example/agent:1' }] },
      });
      // No controller-manager here: the ServiceAccount it would create, and the pods a kubelet would report on.
      await api.apply([
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: NS } },
      ]);
      await api.apply([pod('agent-pull', 'w1'), pod('agent-crash', 'w2')]);
      const status = (state: object, lastState: object = {}) =>
        JSON.stringify({
          status: {
            phase: 'Pending',
            conditions: [{ type: 'Ready', status: 'False' }],
            containerStatuses: [
              {
                name: 'agent',
                image: 'registry.example/agent:1',
                imageID: '',
                ready: false,
                restartCount: 3,
                state,
                lastState,
              },
            ],
          },
        });
      await kubectl(
        '-n',
        NS,
        'patch',
        'pod',
        'agent-pull',
        '--subresource=status',
        '--type=merge',
        '-p',
        status({
          waiting: {
            reason: 'ImagePullBackOff',
            message: 'Back-off pulling image "registry.example/agent:1"',
          },
        }),
      );
      await kubectl(
        '-n',
        NS,
        'patch',
        'pod',
        'agent-crash',
        '--subresource=status',
        '--type=merge',
        '-p',
        status(
          { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container' } },
          {
            terminated: {
              exitCode: 1,
              reason: 'Error',
              message: 'open /run/flannel/subnet.env: no such file or directory',
            },
          },
        ),
      );
      const pulled = await api.get('v1', 'Pod', 'agent-pull', NS);
      await api.apply([
        {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name: 'agent-pull.1', namespace: NS },
          involvedObject: { kind: 'Pod', name: 'agent-pull', namespace: NS, uid: pulled?.metadata.uid },
          type: 'Warning',
          reason: 'Failed',
          message: 'Failed to pull image "registry.example/agent:1": lookup registry.example: no such host',
          source: { component: 'kubelet' },
          lastTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        },
      ]);
      const error = await api.waitDaemonSetReady(NS, 'agent', { timeoutMs: 2000 }).catch((e: Error) => e);
      expect(error).toBeInstanceOf(Error);
      const lines = (error as Error).message.split('\n').map((l) => l.trim());
      expect(lines[0]).toMatch(new RegExp(`^DaemonSet ${NS}/agent not ready after 2 s: `));
      expect(lines.slice(1).sort()).toEqual([
        'agent-crash (w2): agent CrashLoopBackOff: back-off 40s restarting failed container (last: exited 1: Error: open /run/flannel/subnet.env: no such file or directory)',
        'agent-pull (w1): agent ImagePullBackOff: Back-off pulling image "registry.example/agent:1"; last warning: Failed: Failed to pull image "registry.example/agent:1": lookup registry.example: no such host',
      ]);
    });

    it('times out on nodes that never become Ready, naming each and why', async () => {
      await api.apply([{ apiVersion: 'v1', kind: 'Node', metadata: { name: 'w3' } }]);
      const condition = {
        type: 'Ready',
        status: 'False',
        reason: 'KubeletNotReady',
        message: 'container runtime network not ready',
      };
      await kubectl(
        'patch',
        'node',
        'w3',
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify({ status: { conditions: [condition] } }),
      );
      const error = await api.waitNodesReady(['w1', 'w3', 'w9'], { timeoutMs: 1500 }).catch((e: Error) => e);
      expect((error as Error).message.split('\n').map((l) => l.trim())).toEqual([
        'nodes not Ready after 2 s:',
        'w1: no Ready condition yet',
        'w3: Ready=False (KubeletNotReady: container runtime network not ready)',
        'w9: not registered (is its kubelet running and able to reach the API?)',
      ]);
    });

    it('stops waiting at once when aborted', async () => {
      const started = Date.now();
      const wait = api.waitNodesReady(['w9'], { timeoutMs: 60_000, signal: AbortSignal.timeout(300) });
      await expect(wait).rejects.toBeInstanceOf(InterruptedError);
      expect(Date.now() - started).toBeLessThan(3000);
    });

    it('says what socat saw when nothing listens at the target on the host', async () => {
      const nowhere = await openKubeApi(conn, kubeconfig, {
        target: { host: '127.0.0.1', port: await freePort() },
      });
      try {
        await expect(nowhere.rawGet('/readyz')).rejects.toThrow(
          /^GET \/readyz: .*\(on the host: socat: E connect\(.*Connection refused\)$/,
        );
      } finally {
        await nowhere.close();
      }
    });

    it("verifies the apiserver's certificate against the kubeconfig's CA, whatever the kubeconfig says", async () => {
      const strangers = await ensurePki('/nonexistent/kubesmith-test-pki', clusterCerts(inv), {
        persist: false,
      });
      const config = parse(kubeconfig);
      config.clusters[0].cluster['certificate-authority-data'] = Buffer.from(
        strangers.get(CA.kubernetes).certPem,
      ).toString('base64');
      config.clusters[0].cluster['insecure-skip-tls-verify'] = true;
      const distrustful = await openKubeApi(conn, stringify(config), {
        target: { host: '127.0.0.1', port: apiPort },
      });
      try {
        await expect(distrustful.rawGet('/readyz')).rejects.toThrow(
          /^GET \/readyz: .*(self.signed|unable to verify|certificate)/i,
        );
      } finally {
        await distrustful.close();
      }
    });

    it('a kubeconfig that is not YAML: the error names the line, never the content', async () => {
      const key = parse(kubeconfig).users[0].user['client-key-data'] as string;
      const broken = `${kubeconfig}\n  - [unclosed ${key.slice(0, 40)}\n`;
      const error = await openKubeApi(conn, broken).catch((e: Error) => e);
      expect((error as Error).message).toMatch(/^the kubeconfig is not valid YAML: .* \(line \d+\)$/);
      expect((error as Error).message).not.toContain(key.slice(0, 20));
    });

    type Review = { status: { userInfo?: { username?: string }; allowed?: boolean } };
    /** A POST straight to the apiserver as the bearer of `token`: its JSON answer. */
    function postAs(token: string, path: string, body: object): Promise<Review> {
      const ca = Buffer.from(parse(kubeconfig).clusters[0].cluster['certificate-authority-data'], 'base64');
      return new Promise((resolve, reject) => {
        const req = request({
          host: '127.0.0.1',
          port: apiPort,
          path,
          method: 'POST',
          ca,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        });
        req.on('response', (res) => {
          let text = '';
          res.on('data', (d: Buffer) => {
            text += d.toString();
          });
          res.on('end', () => resolve(JSON.parse(text)));
        });
        req.on('error', reject).end(JSON.stringify(body));
      });
    }

    it("dashboard-token: a TokenRequest token of the dashboard's ServiceAccount authenticates, with its role", async () => {
      const dashboardInv = inventorySchema.parse({ ...inv, addons: { dashboard: { enabled: true } } });
      const access = dashboardObjects(dashboardInv).filter(
        (o) => o.kind === 'ServiceAccount' || o.kind === 'ClusterRoleBinding',
      );
      await api.apply(access);
      const target = { host: '127.0.0.1', port: apiPort };
      const request = { namespace: 'kube-system', serviceAccount: DASHBOARD_USER, seconds: 600 };
      const issued = await requestServiceAccountToken(conn, kubeconfig, target, request);
      expect(issued.expires.getTime() - Date.now()).toBeGreaterThan(590_000);
      expect(issued.expires.getTime() - Date.now()).toBeLessThanOrEqual(600_000);
      const who = await postAs(issued.token, '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'SelfSubjectReview',
      });
      expect(who.status.userInfo?.username).toBe(`system:serviceaccount:kube-system:${DASHBOARD_USER}`);
      const may = await postAs(issued.token, '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { verb: 'delete', resource: 'nodes' } },
      });
      expect(may.status.allowed).toBe(true);
      const missing = { ...request, namespace: 'default' };
      const error = await requestServiceAccountToken(conn, kubeconfig, target, missing).catch(
        (e: Error) => e,
      );
      expect(error).toBeInstanceOf(OperationError);
      expect((error as Error).message).toBe(`the ServiceAccount default/${DASHBOARD_USER} does not exist`);
      for (const o of [...access].reverse())
        await api.delete(o.apiVersion, o.kind, o.metadata.name, o.metadata.namespace);
    });

    it('close ends every socat it started on the host', async () => {
      const other = await openKubeApi(conn, kubeconfig, { target: { host: '127.0.0.1', port: apiPort } });
      await Promise.all([
        other.rawGet('/readyz'),
        other.list('v1', 'Namespace'),
        other.get('v1', 'Node', 'w1'),
      ]);
      expect((await socats(apiPort)).length).toBeGreaterThan(0);
      await other.close();
      await api.close();
      await expect.poll(() => socats(apiPort), { timeout: 5000 }).toEqual([]);
    });
  },
);
