import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { LAB_KUBERNETES_VERSIONS } from '../../src/lab/build/recipes.js';
import { LAB_KUBERNETES_VERSION } from '../../src/lab/inventory.js';
import { bundleDir } from '../../src/lab/state.js';
import type { VerifyReport } from '../../src/verify/report.js';
import { skipWithout } from '../helpers/prerequisite.js';
import { E2E_HOME, kubesmith, LAB_BUNDLE, labShell, labUnavailable } from './harness.js';
import { caRotationTests, certsTests } from './lifecycle/certs.js';
import { conformanceTests } from './lifecycle/conformance.js';
import { kubeconfigUserTests } from './lifecycle/kubeconfig.js';
import { masterLifecycleTests } from './lifecycle/masters.js';
import { nodeLifecycleTests } from './lifecycle/nodes.js';
import { powerAndDestroyTests } from './lifecycle/power.js';
import { restoreWithApiserversTests } from './lifecycle/restore.js';
import { upgradeTests } from './lifecycle/upgrade.js';

const unavailable = skipWithout('kubernetes e2e', labUnavailable());

const LAB = 'e2e-k8s';
const shell = labShell(LAB);
const MASTERS = [0, 1, 2];
const NODES = [3, 4];
const ALL = [...MASTERS, ...NODES];
const name = (i: number) => `${LAB}-${i + 1}`;
const kubectl = (i: number, args: string) =>
  shell.run(i, `kubectl --kubeconfig /etc/kubernetes/admin.conf ${args}`);
const kubectlJson = async (i: number, args: string) => JSON.parse(await kubectl(i, `${args} -o json`));
const jsonEvents = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));

const REPORT_SCHEMA = z.fromJSONSchema(
  JSON.parse(
    readFileSync(join(import.meta.dirname, '..', '..', 'schema', 'verify-report.schema.json'), 'utf8'),
  ),
);

/** The verify report of a run's JSON output, checked against the committed JSON Schema. */
function verifyReport(stdout: string): VerifyReport {
  const event = jsonEvents(stdout).find((e) => e.type === 'verify-report');
  expect(event, 'no verify-report event').toBeDefined();
  const checked = REPORT_SCHEMA.safeParse(event.report);
  expect(checked.success, JSON.stringify(checked.error?.issues)).toBe(true);
  return event.report;
}

/** How many of `tries` GETs of /readyz through the host's local balancer answer 200. */
async function balancerAnswers(i: number, tries = 10): Promise<number> {
  const out = await shell.run(
    i,
    `ok=0; for n in $(seq ${tries}); do curl -sf --max-time 3 --cacert /etc/kubernetes/pki/ca.crt https://127.0.0.1:6443/readyz >/dev/null && ok=$((ok+1)); done; echo $ok`,
  );
  return Number(out.trim());
}

async function restartStamps(): Promise<string[]> {
  const units = 'kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy haproxy';
  return Promise.all(
    ALL.map((i) => shell.run(i, `systemctl show -p ActiveEnterTimestampMonotonic ${units}`)),
  );
}

describe.skipIf(unavailable)('setup all on 3 masters (with etcd) and 2 nodes', () => {
  let stepTimes: Record<string, number> = {};

  beforeAll(async () => {
    await kubesmith('lab', 'down', '--name', LAB);
    rmSync(shell.clusterDir, { recursive: true, force: true });
    const up = await kubesmith('lab', 'up', '5', '--name', LAB);
    expect(up.exitCode, up.all).toBe(0);
    shell.learn(up.stdout);
    // Labels and taints to find on the nodes afterwards.
    const file = join(shell.clusterDir, 'inventory.yaml');
    const inventory = parse(readFileSync(file, 'utf8'));
    inventory.hosts[3].labels = { disktype: 'ssd' };
    inventory.hosts[4].taints = [{ key: 'dedicated', value: 'e2e', effect: 'PreferNoSchedule' }];
    writeFileSync(file, stringify(inventory));
    for (const step of ['01', '02', '03']) {
      const run = await kubesmith('setup', LAB, step);
      expect(run.exitCode, run.all).toBe(0);
    }
  });
  afterAll(async () => {
    await kubesmith('lab', 'down', '--name', LAB);
  });

  it('setup 04 --dry-run lists every unit and file per master, without key material', async () => {
    const run = await kubesmith('setup', LAB, '04', '--dry-run');
    expect(run.exitCode, run.all).toBe(0);
    for (const i of MASTERS)
      for (const path of [
        '/etc/systemd/system/kube-apiserver.service',
        '/etc/systemd/system/kube-controller-manager.service',
        '/etc/systemd/system/kube-scheduler.service',
        '/etc/kubernetes/pki/apiserver.key',
        '/etc/kubernetes/encryption-config.yaml',
        '/etc/haproxy/haproxy.cfg',
      ])
        expect(run.stdout).toMatch(new RegExp(`${name(i)} .*${path.replaceAll('.', '\\.')}`));
    expect(run.all).not.toContain('PRIVATE KEY');
    expect(run.all).not.toContain('client-key-data');
    expect(run.all).not.toMatch(/secret: [A-Za-z0-9+/=]{40}/);
    // Nothing installed.
    expect(await shell.run(0, 'test -e /etc/kubernetes/pki/apiserver.crt && echo yes || echo no')).toBe('no');
  });

  it('setup all ends with every node Ready, at the pinned version, masters tainted, inventory labels and taints', async () => {
    const run = await kubesmith('setup', LAB, 'all', '--output', 'json');
    expect(run.exitCode, run.all).toBe(0);
    stepTimes = Object.fromEntries(
      jsonEvents(run.stdout)
        .filter((e) => e.type === 'step-end')
        .map((e) => [e.step, e.durationMs]),
    );
    process.stdout.write(`setup all after 01-03, per step (ms): ${JSON.stringify(stepTimes)}\n`);
    const report = verifyReport(run.stdout);
    expect(
      report.checks.filter((c) => c.status !== 'ok'),
      JSON.stringify(report, null, 2),
    ).toEqual([]);
    const nodes = (await kubectlJson(0, 'get nodes')).items;
    expect(nodes.map((n: { metadata: { name: string } }) => n.metadata.name).sort()).toEqual(ALL.map(name));
    for (const node of nodes) {
      const ready = node.status.conditions.find((c: { type: string }) => c.type === 'Ready');
      expect(ready.status, node.metadata.name).toBe('True');
      expect(node.status.nodeInfo.kubeletVersion).toBe(`v${LAB_KUBERNETES_VERSION}`);
      const taints = (node.spec.taints ?? []).map(
        (t: { key: string; effect: string }) => `${t.key}:${t.effect}`,
      );
      const index = ALL.find((i) => name(i) === node.metadata.name)!;
      if (MASTERS.includes(index)) {
        expect(taints).toContain('node-role.kubernetes.io/control-plane:NoSchedule');
        expect(node.metadata.labels).toHaveProperty(['node-role.kubernetes.io/control-plane']);
      } else expect(taints).not.toContain('node-role.kubernetes.io/control-plane:NoSchedule');
      if (index === 3) expect(node.metadata.labels.disktype).toBe('ssd');
      if (index === 4) expect(taints).toContain('dedicated:PreferNoSchedule');
    }
  });

  it('every apiserver is ready, the leaders hold their leases, the deploy machine kubeconfig works', async () => {
    for (const i of MASTERS) {
      const verbose = await shell.run(
        0,
        `curl -s --cacert /etc/kubernetes/pki/ca.crt 'https://${shell.addresses[i]}:6443/readyz?verbose'`,
      );
      expect(verbose).toContain('readyz check passed');
    }
    for (const lease of ['kube-controller-manager', 'kube-scheduler']) {
      const held = await kubectlJson(0, `-n kube-system get lease ${lease}`);
      expect(held.spec.holderIdentity).toMatch(new RegExp(`^${LAB}-[123]_`));
    }
    const local = await execa(
      join(LAB_BUNDLE, 'bin', 'kubectl'),
      ['--kubeconfig', join(shell.clusterDir, 'kubeconfig'), 'get', 'nodes', '-o', 'name'],
      { reject: false },
    );
    expect(local.exitCode, local.stderr).toBe(0);
    expect(local.stdout.split('\n')).toHaveLength(5);
  });

  it('agnhost on every node: pod to pod across nodes, ClusterIP from a pod and a host, NodePort from the deploy machine', async () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        replicas: 5,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            tolerations: [{ operator: 'Exists' }],
            topologySpreadConstraints: [
              {
                maxSkew: 1,
                topologyKey: 'kubernetes.io/hostname',
                whenUnsatisfiable: 'DoNotSchedule',
                labelSelector: { matchLabels: { app: 'web' } },
              },
            ],
            containers: [
              {
                name: 'agnhost',
                image: 'registry.k8s.io/e2e-test-images/agnhost:2.56',
                args: ['netexec', '--http-port=8080'],
              },
            ],
          },
        },
      },
    };
    const service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default' },
      spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
    };
    writeFileSync(
      '/tmp/kubesmith-e2e-web.json',
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [deployment, service] }),
    );
    await shell.copy(0, '/tmp/kubesmith-e2e-web.json', '/root/web.json');
    await kubectl(0, 'apply -f /root/web.json');
    await kubectl(0, 'rollout status deployment/web --timeout=180s');
    const pods = (await kubectlJson(0, 'get pods -l app=web')).items as {
      metadata: { name: string };
      spec: { nodeName: string };
      status: { podIP: string };
    }[];
    expect(new Set(pods.map((p) => p.spec.nodeName)).size).toBe(5);
    const [from, ...others] = pods;
    for (const to of others)
      expect(
        await kubectl(
          0,
          `exec ${from!.metadata.name} -- curl -s --max-time 5 http://${to.status.podIP}:8080/hostname`,
        ),
      ).toBe(to.metadata.name);
    const svc = await kubectlJson(0, 'get service web');
    const names = new Set(pods.map((p) => p.metadata.name));
    const viaPod = await kubectl(
      0,
      `exec ${from!.metadata.name} -- curl -s --max-time 5 http://web.default.svc.cluster.local/hostname`,
    );
    expect(names).toContain(viaPod);
    for (const i of [0, 3])
      expect(names).toContain(
        await shell.run(i, `curl -s --max-time 5 http://${svc.spec.clusterIP}/hostname`),
      );
    const nodePort = svc.spec.ports[0].nodePort;
    for (const address of shell.addresses) {
      const answer = await execa(
        'curl',
        ['-s', '--max-time', '5', `http://${address}:${nodePort}/hostname`],
        { reject: false },
      );
      expect(names, `NodePort on ${address}`).toContain(answer.stdout);
    }
  });

  it('07 addons: CoreDNS on two nodes answers for Services, the metrics API answers for every node', async () => {
    const dns = (await kubectlJson(0, '-n kube-system get pods -l k8s-app=kube-dns')).items as {
      spec: { nodeName: string };
    }[];
    expect(dns).toHaveLength(2);
    expect(new Set(dns.map((p) => p.spec.nodeName)).size).toBe(2);
    const client = (await kubectl(0, 'get pods -l app=web -o name')).split('\n')[0]!;
    const lookup = await kubectl(0, `exec ${client} -- getent hosts kubernetes.default.svc.cluster.local`);
    expect(lookup.split(/\s+/)[0]).toBe('10.68.0.1');
    // metrics-server scrapes every 15 s: the first answer for every node can take a minute.
    let top = '';
    for (let i = 0; i < 40 && top.split('\n').filter(Boolean).length < 5; i++) {
      top = await kubectl(0, 'top nodes --no-headers').catch(() => '');
      if (top.split('\n').filter(Boolean).length < 5) await new Promise((r) => setTimeout(r, 3000));
    }
    expect(
      top
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(/\s+/)[0])
        .sort(),
    ).toEqual(ALL.map(name));
  });

  it('HA: with one apiserver stopped every other host still reaches the API through its balancer; started again it serves', async () => {
    await shell.run(0, 'systemctl stop kube-apiserver');
    try {
      for (const i of [1, 2, 3, 4]) expect(await balancerAnswers(i), name(i)).toBe(10);
      expect((await kubectl(1, 'get nodes -o name')).split('\n')).toHaveLength(5);
    } finally {
      await shell.run(0, 'systemctl start kube-apiserver');
    }
    await shell.run(
      0,
      `for i in $(seq 60); do curl -sf --cacert /etc/kubernetes/pki/ca.crt https://${shell.addresses[0]}:6443/readyz >/dev/null && exit 0; sleep 1; done; exit 1`,
    );
    // Back in rotation: with the other two stopped, the balancers reach master 1 alone.
    await Promise.all([1, 2].map((i) => shell.run(i, 'systemctl stop kube-apiserver')));
    try {
      await new Promise((r) => setTimeout(r, 7000));
      for (const i of [3, 4]) expect(await balancerAnswers(i), name(i)).toBe(10);
    } finally {
      await Promise.all([1, 2].map((i) => shell.run(i, 'systemctl start kube-apiserver')));
    }
  });

  it('Secrets are encrypted in etcd and their creation is audited', async () => {
    await kubectl(0, 'create secret generic e2e-secret --from-literal=token=not-in-etcd-plain');
    const raw = await shell.run(
      0,
      `ETCDCTL_API=3 etcdctl --endpoints=https://${shell.addresses[0]}:2379 --cacert=/etc/etcd/pki/ca.crt --cert=/etc/etcd/pki/kubesmith-client.crt --key=/etc/etcd/pki/kubesmith-client.key get /registry/secrets/default/e2e-secret --print-value-only | head -c 40 | tr -c '[:print:]' .`,
    );
    expect(raw.startsWith('k8s:enc:')).toBe(true);
    expect(raw).not.toContain('not-in-etcd-plain');
    const logs = await Promise.all(
      MASTERS.map((i) => shell.run(i, 'cat /var/log/kubernetes/audit/audit.log')),
    );
    const created = logs
      .flatMap((log) => log.split('\n').filter(Boolean))
      .map((line) => JSON.parse(line))
      .filter(
        (e) =>
          e.verb === 'create' && e.objectRef?.resource === 'secrets' && e.objectRef?.name === 'e2e-secret',
      );
    expect(created.length).toBeGreaterThan(0);
  });

  it('a re-run changes nothing, restarts nothing, with at most 3 commands per host per step', async () => {
    await kubectl(0, 'delete deployment web --wait=false');
    const before = await restartStamps();
    const run = await kubesmith('setup', LAB, 'all', '--output', 'json');
    expect(run.exitCode, run.all).toBe(0);
    const end = jsonEvents(run.stdout).find((e) => e.type === 'run-end');
    expect(end.summary.changed).toBe(0);
    process.stdout.write(`setup all re-run: ${end.durationMs} ms\n`);
    for (const host of end.summary.hosts) {
      expect(host.bytesUploaded).toBe(0);
      const steps = ALL.some((i) => name(i) === host.host && MASTERS.includes(i)) ? 11 : 8;
      expect(host.commands / steps, host.host).toBeLessThanOrEqual(3);
    }
    expect(await restartStamps()).toEqual(before);
  });

  it('verify passes on the built cluster, every check ok, its JSON valid against the schema, and changes nothing', async () => {
    const run = await kubesmith('verify', LAB, '--output', 'json');
    expect(run.exitCode, run.all).toBe(0);
    const end = jsonEvents(run.stdout).find((e) => e.type === 'run-end');
    expect(end.summary.changed).toBe(0);
    expect(jsonEvents(run.stdout).some((e) => e.type === 'step-start' && e.step === 'network')).toBe(false);
    const report = verifyReport(run.stdout);
    expect(report.ok).toBe(true);
    expect(report.checks.filter((c) => c.status !== 'ok')).toEqual([]);
    for (const id of [
      'etcd/health',
      'control-plane/leases',
      'nodes/ready',
      'network/flannel',
      'addons/coredns',
      'addons/metrics-api',
      'smoke/dns',
      'smoke/service',
      'smoke/pod-to-pod',
      'smoke/nodeport',
      'certificates/expiry',
    ])
      expect(report.checks.map((c) => c.id)).toContain(id);
    const table = await kubesmith('verify', LAB, '--output', 'plain');
    expect(table.stdout).toMatch(/STATUS\s+CHECK\s+SUMMARY/);
    expect(table.stdout).toMatch(new RegExp(`verify ${LAB}: \\d+ ok, 0 warn, 0 fail`));
    // The smoke cleans up after itself: its namespace is gone or on its way out.
    const phases = await kubectl(
      0,
      "get namespaces -l kubesmith.io/verify-smoke -o jsonpath='{.items[*].status.phase}'",
    );
    expect(phases.split(' ').filter((p) => p && p !== 'Terminating')).toEqual([]);
  });

  it.each([
    {
      fault: 'kubelet stopped on a node',
      inject: () => shell.run(3, 'systemctl stop kubelet'),
      repair: () => shell.run(3, 'systemctl start kubelet'),
      expect: { 'nodes/services': `${name(3)}: kubelet inactive` },
    },
    {
      fault: 'one etcd member stopped',
      inject: () => shell.run(2, 'systemctl stop etcd'),
      repair: () => shell.run(2, 'systemctl start etcd'),
      expect: { 'etcd/health': `${name(2)}: unhealthy` },
    },
    {
      fault: 'CoreDNS scaled to 0',
      inject: () => kubectl(0, '-n kube-system scale deployment coredns --replicas=0'),
      repair: async () => {
        await kubectl(0, '-n kube-system scale deployment coredns --replicas=2');
        await kubectl(0, '-n kube-system rollout status deployment coredns --timeout=120s');
      },
      expect: { 'addons/coredns': '', 'smoke/dns': 'no answer' },
    },
    {
      fault: "a node's kube-proxy stopped",
      inject: () => shell.run(4, 'systemctl stop kube-proxy'),
      repair: () => shell.run(4, 'systemctl start kube-proxy'),
      expect: {
        'nodes/services': `${name(4)}: kube-proxy inactive`,
        'smoke/nodeport': `${name(4)}: no answer`,
      },
    },
  ])(
    'verify catches $fault, naming it with evidence, and exits 1',
    async ({ inject, repair, expect: wanted }) => {
      await inject();
      try {
        const run = await kubesmith('verify', LAB, '--output', 'json');
        expect(run.exitCode, run.all).toBe(1);
        const report = verifyReport(run.stdout);
        expect(report.ok).toBe(false);
        for (const [id, evidence] of Object.entries(wanted)) {
          const check = report.checks.find((c) => c.id === id);
          expect(check?.status, `${id}: ${JSON.stringify(check)}`).toBe('fail');
          expect(check?.hint).toBeTruthy();
          if (evidence) expect(check?.evidence.join('\n'), id).toContain(evidence);
        }
      } finally {
        await repair();
      }
    },
  );

  // Kubernetes' own tests on this cluster (a cluster of their own cost CI 2-3 minutes more).
  conformanceTests(LAB);

  it('disabling an addon and re-running 07 removes it, verify no longer asks for it; enabled again it comes back', async () => {
    const file = join(shell.clusterDir, 'inventory.yaml');
    const original = readFileSync(file, 'utf8');
    const inventory = parse(original);
    inventory.addons = { ...inventory.addons, metricsServer: false };
    writeFileSync(file, stringify(inventory));
    try {
      const off = await kubesmith('setup', LAB, '07');
      expect(off.exitCode, off.all).toBe(0);
      expect(await kubectl(0, '-n kube-system get deployment -o name')).not.toContain('metrics-server');
      expect(await kubectl(0, 'get apiservice -o name')).not.toContain('v1beta1.metrics.k8s.io');
      const verify = await kubesmith('verify', LAB, '--output', 'json');
      expect(verify.exitCode, verify.all).toBe(0);
      expect(verifyReport(verify.stdout).checks.map((c) => c.id)).not.toContain('addons/metrics-api');
    } finally {
      writeFileSync(file, original);
    }
    const on = await kubesmith('setup', LAB, '07');
    expect(on.exitCode, on.all).toBe(0);
    expect(await kubectl(0, '-n kube-system get deployment -o name')).toContain('metrics-server');
  });

  // Day-2 on the same cluster (a cluster of its own would cost CI minutes): nodes join and leave last.
  kubeconfigUserTests(LAB, shell);
  restoreWithApiserversTests(LAB, shell, MASTERS);
  certsTests(LAB, shell, MASTERS, ALL);
  caRotationTests(LAB, shell, MASTERS, ALL);
  // From here on the cluster runs the lab's second version: masters and nodes join it at that version.
  upgradeTests(LAB, shell, MASTERS, NODES, ALL, {
    version: LAB_KUBERNETES_VERSIONS[1],
    bundleDir: bundleDir(E2E_HOME, LAB_KUBERNETES_VERSIONS[1]),
  });
  // The machine del-master cleaned joins again as a worker in the node tests.
  masterLifecycleTests(LAB, shell, ALL, MASTERS);
  nodeLifecycleTests(LAB, shell, ALL);
  // The first machine add-node brought in stays; destroy leaves nothing, so it comes last.
  powerAndDestroyTests(LAB, shell, MASTERS, [...ALL, ALL.length]);
});
