import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { parse } from 'yaml';
import { inventorySchema } from '../../../src/inventory/schema.js';
import { smokeImage } from '../../../src/verify/smoke-objects.js';
import { kubesmith, type labShell } from '../harness.js';

type Shell = ReturnType<typeof labShell>;

/** What a worker must not have once del-node cleaned it: one line per leftover, empty when clean. */
export const LEFTOVERS = String.raw`
for u in kubelet kube-proxy containerd haproxy kubepods.slice kubesmith.slice; do
  systemctl is-active -q "$u" && echo "active unit $u"; systemctl is-enabled -q "$u" 2>/dev/null && echo "enabled unit $u"
done
for f in /etc/systemd/system/kubelet.service /etc/systemd/system/kube-proxy.service /etc/systemd/system/containerd.service \
  /etc/systemd/system/haproxy.service.d /etc/haproxy/haproxy.cfg /etc/kubernetes /var/lib/kubelet /var/lib/kube-proxy \
  /etc/containerd /etc/crictl.yaml /var/lib/containerd /run/containerd /opt/cni /etc/cni /var/lib/cni /run/flannel \
  /var/log/pods /var/log/containers /var/lib/kubesmith /opt/kube /etc/kubesmith /etc/sysctl.d/95-kubesmith.conf \
  /etc/modules-load.d/kubesmith.conf /etc/systemd/journald.conf.d/95-kubesmith.conf /etc/security/limits.d/95-kubesmith.conf; do
  if mountpoint -q "$f"; then [ -z "$(ls -A "$f")" ] || echo "files in mount point $f"; elif [ -e "$f" ]; then echo "file $f"; fi
done
find /usr/local/bin -maxdepth 1 -type l -lname '/opt/kube/*' -printf 'link %p\n'
for p in kubelet kube-proxy containerd containerd-shim-runc-v2 haproxy flanneld pause agnhost; do pgrep -x "$p" >/dev/null && echo "process $p"; done
ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -E '^(cni0|flannel|kube-ipvs0|nodelocaldns|veth|cali)' | sed 's/^/interface /'
for t in iptables-save ip6tables-save; do $t | grep -E '^:(KUBE-|FLANNEL-|CNI-)' | sed "s/^/$t chain /"; done
findmnt -rn -o TARGET | grep -E '^(/var/lib/kubelet|/var/lib/containerd|/run/containerd|/run/netns)/' | sed 's/^/mount /'
grep -q 'kubesmith managed block' /etc/hosts && echo 'hosts block'
true`;

/**
 * add-node and del-node on the running 3-master/2-node cluster: two fresh machines join (nothing
 * restarts on the others), then one leaves again through a drain a PodDisruptionBudget holds up.
 */
export function nodeLifecycleTests(lab: string, shell: Shell, existing: number[]): void {
  const name = (i: number) => `${lab}-${i + 1}`;
  const kubectl = (args: string) => shell.run(0, `kubectl --kubeconfig /etc/kubernetes/admin.conf ${args}`);
  const [first, second] = [existing.length, existing.length + 1];
  // The agnhost the cluster's version carries (the lab may have been upgraded before these tests).
  const agnhost = () =>
    smokeImage(inventorySchema.parse(parse(readFileSync(join(shell.clusterDir, 'inventory.yaml'), 'utf8'))));
  /** The nodes of spread's running pods that are not terminating (a rollout leaves old ones for a while). */
  const spreadNodes = async () => {
    const pods = JSON.parse(await kubectl('get pods -l app=spread -o json')).items as {
      metadata: { deletionTimestamp?: string };
      spec: { nodeName: string };
      status: { phase: string };
    }[];
    return pods
      .filter((p) => p.status.phase === 'Running' && !p.metadata.deletionTimestamp)
      .map((p) => p.spec.nodeName);
  };
  const stamps = () =>
    Promise.all(
      existing.map((i) =>
        shell.run(
          i,
          'systemctl show -p ActiveEnterTimestampMonotonic kube-apiserver kubelet kube-proxy haproxy containerd etcd',
        ),
      ),
    );

  it('add-node and del-node refuse bad input before any host is touched', async () => {
    const cases: [string[], RegExp][] = [
      [['add-node', lab, 'no-such-host', '--yes'], /no-such-host is not a host in/],
      [['del-node', lab, name(0), '--yes'], /is also etcd and master|does not have the node role/],
      [
        ['del-node', lab, name(existing.at(-1)!), '--yes', '--drain-timeout', 'soon'],
        /--drain-timeout takes a duration/,
      ],
    ];
    for (const [args, message] of cases) {
      const run = await kubesmith(...args);
      expect(run.exitCode, run.all).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stdout).not.toContain('== ');
    }
  });

  it('add-node: two fresh machines join, go Ready and receive pods; no other host restarts anything', async () => {
    const before = await stamps();
    const up = await kubesmith('lab', 'up', String(existing.length + 2), '--name', lab);
    expect(up.exitCode, up.all).toBe(0);
    shell.learn(up.stdout);
    const run = await kubesmith('add-node', lab, name(first), name(second), '--yes');
    expect(run.exitCode, run.all).toBe(0);
    expect(run.stdout).toMatch(/verify .*: \d+ ok, \d+ warn, 0 fail/);
    expect(await stamps()).toEqual(before);
    const nodes = JSON.parse(await kubectl('get nodes -o json')).items as {
      metadata: { name: string };
      status: { conditions: { type: string; status: string }[] };
    }[];
    for (const i of [first, second]) {
      const node = nodes.find((n) => n.metadata.name === name(i));
      expect(node?.status.conditions.find((c) => c.type === 'Ready')?.status, name(i)).toBe('True');
    }
    const spread = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'spread', namespace: 'default' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'spread' } },
        template: {
          metadata: { labels: { app: 'spread' } },
          spec: {
            nodeSelector: { 'kubernetes.io/hostname': name(second) },
            containers: [
              {
                name: 'agnhost',
                image: agnhost(),
                args: ['netexec', '--http-port=8080'],
              },
            ],
          },
        },
      },
    };
    await kubectl(`apply -f - <<'EOF'\n${JSON.stringify(spread)}\nEOF`);
    await kubectl('rollout status deployment/spread --timeout=120s');
    expect(await spreadNodes()).toEqual([name(second), name(second)]);
  });

  it('del-node: a bare pod is refused, a PodDisruptionBudget holds the drain and its pods are listed; relaxed, the pods move, the Node is gone, the host is clean', async () => {
    await kubectl(
      `run bare --image=${agnhost()} --overrides='{"spec":{"nodeName":"${name(second)}"}}' --command -- /agnhost pause`,
    );
    const refused = await kubesmith('del-node', lab, name(second), '--yes');
    expect(refused.exitCode, refused.all).toBe(2);
    expect(refused.stderr).toContain('default/bare');
    // Refused before any change: the node was not even cordoned.
    expect(await kubectl(`get node ${name(second)} -o jsonpath='{.spec.unschedulable}'`)).toBe('');
    await kubectl('delete pod bare --wait=false');
    await kubectl(`create poddisruptionbudget spread --selector=app=spread --min-available=2`);
    const blocked = await kubesmith('del-node', lab, name(second), '--yes', '--drain-timeout', '15s');
    expect(blocked.exitCode, blocked.all).toBe(1);
    expect(blocked.stderr).toMatch(/drain blocked after 15 s/);
    expect(blocked.stderr).toMatch(
      /default\/spread-\S+ \(.*\): Cannot evict pod as it would violate the pod's disruption budget/,
    );
    // Relaxed: one at a time may go, and the pods may run anywhere.
    await kubectl(`patch pdb spread --type merge -p '{"spec":{"minAvailable":1}}'`);
    await kubectl(
      `patch deployment spread --type json -p '[{"op":"remove","path":"/spec/template/spec/nodeSelector"}]'`,
    );
    await kubectl('rollout status deployment/spread --timeout=120s');
    await kubectl(
      `patch deployment spread --type merge -p '{"spec":{"template":{"spec":{"affinity":{"nodeAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":100,"preference":{"matchExpressions":[{"key":"kubernetes.io/hostname","operator":"In","values":["${name(second)}"]}]}}]}}}}}}'`,
    );
    await kubectl('rollout status deployment/spread --timeout=120s');
    const run = await kubesmith('del-node', lab, name(second), '--yes', '--drain-timeout', '2m');
    expect(run.exitCode, run.all).toBe(0);
    expect(run.stdout).toMatch(/verify .*: \d+ ok, \d+ warn, 0 fail/);
    expect(await kubectl(`get node ${name(second)} --ignore-not-found -o name`)).toBe('');
    const placed = await spreadNodes();
    expect(placed).toHaveLength(2);
    expect(placed).not.toContain(name(second));
    const inventory = parse(readFileSync(join(shell.clusterDir, 'inventory.yaml'), 'utf8'));
    expect(inventory.hosts.map((h: { name: string }) => h.name)).not.toContain(name(second));
    expect(await shell.run(second, LEFTOVERS)).toBe('');
    for (const i of existing) expect(await shell.run(i, 'cat /etc/hosts')).not.toContain(name(second));
  });
}
