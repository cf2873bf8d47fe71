import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { inventorySchema } from '../../../src/inventory/schema.js';
import { bundleDir } from '../../../src/lab/state.js';
import { smokeImage } from '../../../src/verify/smoke-objects.js';
import { E2E_HOME, kubesmith, type labShell, waitFor } from '../harness.js';

type Event = {
  type: string;
  command?: string;
  step?: string;
  host?: string;
  hosts?: string[];
  changed?: number;
};

const FROM = '1.34.4';
const NS = 'upgrade-e2e';
const DROP_IN = '/etc/systemd/system/kubelet.service.d/99-upgrade-e2e-fail.conf';
const LONG = 20 * 60_000;

/** The events of the upgrade's own runs (not of the verify run that ends the command). */
function jsonEvents(stdout: string): Event[] {
  let command = '';
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
    .filter((e) => {
      if (e.type === 'run-start') command = e.command;
      return command.startsWith('upgrade');
    });
}
const hostStarts = (events: Event[], steps: string[]) =>
  events.filter((e) => e.type === 'host-start' && steps.includes(e.step!)).map((e) => e.host!);
/**
 * The batches upgrade-node ran, in order: kube-node runs on its batch only (node-cordon and
 * node-uncordon run from the deploy machine, their host events naming the masters they reach the API by).
 */
const kubeNodeBatches = (events: Event[]) =>
  events.filter((e) => e.type === 'step-start' && e.step === 'kube-node').map((e) => e.hosts!);

/** One GET with its own connection (no keep-alive hiding a dead backend), 3 s at most; an error message or undefined. */
function getOnce(url: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const request = get(url, { agent: false, signal: AbortSignal.timeout(3000) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () =>
        resolve(res.statusCode === 200 && body ? undefined : `HTTP ${res.statusCode} ${body}`),
      );
      res.on('error', (e) => resolve(e.message));
    });
    request.on('error', (e) => resolve(e.message));
  });
}

/** GETs `url` every 100 ms until stopped, counting answers and failures (with their time). */
function clientLoop(url: string) {
  let ok = 0;
  let stopped = false;
  const failures: string[] = [];
  const done = (async () => {
    while (!stopped) {
      const at = new Date().toISOString();
      const error = await getOnce(url);
      if (error === undefined) ok++;
      else failures.push(`${at} ${error}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await done;
      return { ok, failures };
    },
  };
}

/**
 * `kubesmith upgrade` on the set-up 3-master/2-worker cluster at 1.34.4, to `to.version` with its
 * bundle: bad input refused; a run stopped by a kubelet that cannot start on the third host; the
 * re-run resumes where it stopped, a NodePort Service answering from first to last; a third run
 * changes nothing. Declares its tests in the caller's describe.
 */
export function upgradeTests(
  lab: string,
  shell: ReturnType<typeof labShell>,
  masters: number[],
  nodes: number[],
  all: number[],
  to: { version: string; bundleDir: string },
): void {
  const name = (i: number) => `${lab}-${i + 1}`;
  const kubectl = (args: string) => shell.run(0, `kubectl --kubeconfig /etc/kubernetes/admin.conf ${args}`);
  const file = join(shell.clusterDir, 'inventory.yaml');
  const readInventory = () => parse(readFileSync(file, 'utf8'));
  const address = (i: number): string =>
    readInventory().hosts.find((h: { name: string }) => h.name === name(i)).address;
  const inventoryCopies = () =>
    readdirSync(shell.clusterDir).filter((f) => f.startsWith('inventory.yaml.before-'));
  const upgrade = (...extra: string[]) => kubesmith('upgrade', lab, '--to', to.version, ...extra);
  const nodeObjects = async () =>
    JSON.parse(await kubectl('get nodes -o json')).items as {
      metadata: { name: string };
      spec: { unschedulable?: boolean };
      status: { nodeInfo: { kubeletVersion: string }; conditions: { type: string; status: string }[] };
    }[];
  const kubeletVersions = async () =>
    Object.fromEntries((await nodeObjects()).map((n) => [n.metadata.name, n.status.nodeInfo.kubeletVersion]));
  const stamps = (hosts: number[], units: string) =>
    Promise.all(hosts.map((i) => shell.run(i, `systemctl show -p ActiveEnterTimestampMonotonic ${units}`)));
  let serviceUrl = '';
  let client: ReturnType<typeof clientLoop> | undefined;

  it('upgrade refuses bad input, and a run without --yes, before any host is touched', async () => {
    const copiesBefore = inventoryCopies();
    const cases: [string[], RegExp][] = [
      [['upgrade', lab, '--to', '1.36.0', '--yes'], /skip/i],
      [['upgrade', lab, '--to', '1.34.3', '--yes'], /downgrade/i],
      [['upgrade', lab, '--to', 'banana', '--yes'], /banana|version/i],
      [['upgrade', lab, '--to', to.version, '--max-unavailable', '0', '--yes'], /max-unavailable/],
    ];
    for (const [args, message] of cases) {
      const run = await kubesmith(...args);
      expect(run.exitCode, run.all).toBe(2);
      expect(run.stderr).toMatch(message);
    }
    // A user asking for the plan has pointed artifacts.dir at the target's bundle already.
    const inventory = readInventory();
    inventory.artifacts.dir = to.bundleDir;
    writeFileSync(file, stringify(inventory));
    const unconfirmed = await upgrade();
    expect(unconfirmed.exitCode, unconfirmed.all).toBe(2);
    expect(unconfirmed.stdout).toMatch(/upgrade plan/i);
    expect(readInventory().cluster.kubernetesVersion).toBe(FROM);
    expect(inventoryCopies()).toEqual(copiesBefore);
    expect(Object.values(await kubeletVersions())).toEqual(all.map(() => `v${FROM}`));
  });

  it('a workload: 3 agnhost replicas behind a PodDisruptionBudget and a NodePort Service', async () => {
    const image = smokeImage(inventorySchema.parse(readInventory()));
    const labels = { app: 'web' };
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: NS },
      spec: {
        replicas: 3,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            terminationGracePeriodSeconds: 30,
            topologySpreadConstraints: [
              {
                maxSkew: 1,
                topologyKey: 'kubernetes.io/hostname',
                whenUnsatisfiable: 'ScheduleAnyway',
                labelSelector: { matchLabels: labels },
              },
            ],
            containers: [
              {
                name: 'agnhost',
                image,
                // Keeps answering 10 s after SIGTERM, while the endpoint removal reaches every kube-proxy.
                args: ['netexec', '--http-port=8080', '--delay-shutdown=10'],
                readinessProbe: { httpGet: { path: '/hostname', port: 8080 }, periodSeconds: 1 },
              },
            ],
          },
        },
      },
    };
    const pdb = {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'web', namespace: NS },
      spec: { maxUnavailable: 1, selector: { matchLabels: labels } },
    };
    const service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: NS },
      spec: { type: 'NodePort', selector: labels, ports: [{ port: 80, targetPort: 8080 }] },
    };
    await kubectl(`create namespace ${NS}`);
    const list = { apiVersion: 'v1', kind: 'List', items: [deployment, pdb, service] };
    await kubectl(`apply -f - <<'EOF'\n${JSON.stringify(list)}\nEOF`);
    await kubectl(`-n ${NS} rollout status deployment/web --timeout=120s`);
    const nodePort = await kubectl(`-n ${NS} get service web -o jsonpath='{.spec.ports[0].nodePort}'`);
    serviceUrl = `http://${address(0)}:${nodePort}/hostname`;
    await waitFor(
      'the NodePort to answer',
      async () => (await getOnce(serviceUrl)) === undefined,
      30_000,
      500,
    );
  });

  it(
    'upgrade stops at the third host whose kubelet cannot start: the hosts after it untouched, it stays cordoned',
    async () => {
      await shell.run(
        2,
        `mkdir -p ${DROP_IN.slice(0, DROP_IN.lastIndexOf('/'))} && printf '[Service]\\nExecStartPre=/bin/false\\n' > ${DROP_IN} && systemctl daemon-reload`,
      );
      client = clientLoop(serviceUrl);
      const inventory = readInventory();
      inventory.artifacts.dir = to.bundleDir;
      writeFileSync(file, stringify(inventory));
      const copiesBefore = inventoryCopies();
      const run = await upgrade('--yes', '-o', 'json');
      expect(run.exitCode, run.all).toBe(1);
      expect(run.all).toContain(name(2));
      expect(run.stderr).toMatch(
        new RegExp(`hint: ${name(2)} stay cordoned;.*upgrade ${lab} --to ${to.version}' again: it resumes`),
      );
      const events = jsonEvents(run.stdout);
      // Masters one at a time, stopped at the third: no worker drained or upgraded.
      expect(kubeNodeBatches(events)).toEqual([[name(0)], [name(1)], [name(2)]]);
      for (const i of nodes) expect(hostStarts(events, ['node-cordon', 'kube-node'])).not.toContain(name(i));
      const versions = await kubeletVersions();
      for (const i of [0, 1]) expect(versions[name(i)], name(i)).toBe(`v${to.version}`);
      for (const i of nodes) expect(versions[name(i)], name(i)).toBe(`v${FROM}`);
      expect((await nodeObjects()).find((n) => n.metadata.name === name(2))?.spec.unschedulable).toBe(true);
      const binDir = inventorySchema.parse(readInventory()).artifacts.binDir;
      for (const i of masters) {
        expect(await shell.run(i, `${binDir}/kube-apiserver --version`), name(i)).toBe(
          `Kubernetes v${to.version}`,
        );
        // The running apiserver, not only the file on disk.
        const served = await shell.run(
          0,
          `curl -s --cacert /etc/kubernetes/pki/ca.crt https://${address(i)}:6443/version`,
        );
        expect(JSON.parse(served).gitVersion, name(i)).toBe(`v${to.version}`);
      }
      expect(readInventory().cluster.kubernetesVersion).toBe(to.version);
      const copies = inventoryCopies().filter((f) => !copiesBefore.includes(f));
      expect(copies).toHaveLength(1);
      const old = parse(readFileSync(join(shell.clusterDir, copies[0]!), 'utf8'));
      expect(old.cluster.kubernetesVersion).toBe(FROM);
    },
    LONG,
  );

  it(
    'the re-run resumes at the failed host, workers one at a time, and the Service answers throughout',
    async () => {
      await shell.run(2, `rm -f ${DROP_IN} && systemctl daemon-reload`);
      const upgraded = await stamps([0, 1], 'kubelet kube-apiserver');
      const run = await upgrade('--yes', '-o', 'json');
      const counts = await client!.stop();
      console.log(`upgrade re-run: ${counts.ok} answers, ${counts.failures.length} failures`);
      expect(run.exitCode, run.all).toBe(0);
      const events = jsonEvents(run.stdout);
      // Only the hosts not at the target yet, the failed master first, then the workers one per batch
      // (each batch its own upgrade-node run, so no two overlap).
      expect(kubeNodeBatches(events)).toEqual([2, ...nodes].map((i) => [name(i)]));
      expect(events.filter((e) => e.type === 'step-start' && e.step === 'node-cordon')).toHaveLength(3);
      expect(await stamps([0, 1], 'kubelet kube-apiserver')).toEqual(upgraded);
      for (const node of await nodeObjects()) {
        expect(node.status.conditions.find((c) => c.type === 'Ready')?.status, node.metadata.name).toBe(
          'True',
        );
        expect(node.status.nodeInfo.kubeletVersion, node.metadata.name).toBe(`v${to.version}`);
        expect(node.spec.unschedulable, node.metadata.name).toBeFalsy();
      }
      expect(counts.ok).toBeGreaterThan(100);
      expect(counts.failures, counts.failures.join('\n')).toEqual([]);
      expect(await kubectl(`-n ${NS} get deployment web -o jsonpath='{.status.readyReplicas}'`)).toBe('3');
    },
    LONG,
  );

  it(
    'a third run upgrades no node and changes nothing on the masters',
    async () => {
      try {
        const before = await stamps(all, 'kubelet kube-proxy kube-apiserver');
        const run = await upgrade('--yes', '-o', 'json');
        expect(run.exitCode, run.all).toBe(0);
        const events = jsonEvents(run.stdout);
        expect(hostStarts(events, ['node-cordon', 'kube-node'])).toEqual([]);
        const kubeMaster = events.filter((e) => e.type === 'host-end' && e.step === 'kube-master');
        expect(kubeMaster.map((e) => e.host).sort()).toEqual(masters.map(name).sort());
        for (const e of kubeMaster) expect(e.changed, e.host).toBe(0);
        expect(await stamps(all, 'kubelet kube-proxy kube-apiserver')).toEqual(before);
      } finally {
        await client?.stop();
        await kubectl(`delete namespace ${NS} --ignore-not-found --wait=false`);
      }
    },
    LONG,
  );

  it('an inventory edited back to the old minor is refused before any host changes', async () => {
    const upgraded = readFileSync(file, 'utf8');
    const before = await stamps(all, 'kubelet kube-proxy kube-apiserver');
    try {
      const back = parse(upgraded);
      back.cluster.kubernetesVersion = FROM;
      back.artifacts.dir = bundleDir(E2E_HOME, FROM);
      writeFileSync(file, stringify(back));
      const run = await kubesmith('setup', lab, '04');
      expect(run.exitCode, run.all).toBe(1);
      for (const i of masters)
        expect(run.all).toContain(
          `${name(i)} runs Kubernetes ${to.version}, and the inventory asks for ${FROM}`,
        );
      expect(run.all).toMatch(/preflight refused/);
    } finally {
      writeFileSync(file, upgraded);
    }
    expect(await stamps(all, 'kubelet kube-proxy kube-apiserver')).toEqual(before);
    for (const i of all)
      expect(await shell.run(i, 'cat /etc/kubesmith/kubernetes-version'), name(i)).toBe(to.version);
  });
}
