import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { parse } from 'yaml';
import { kubesmith, type labShell } from '../harness.js';

type Shell = ReturnType<typeof labShell>;

const KUBELET = ['kubelet', 'kube-proxy'];
const CONTROL_PLANE = ['kube-scheduler', 'kube-controller-manager', 'kube-apiserver'];
const ETCD = ['etcd'];
const UNITS = [...KUBELET, ...CONTROL_PLANE, ...ETCD];

/**
 * What a host must not have once destroy cleaned it: del-node's list (test/e2e/lifecycle/nodes.ts)
 * plus the control plane's and etcd's units, files and processes; etcd's data dir may hold only
 * data kept aside (destroy's kubesmith-removed-*, a restore's kubesmith-before-restore-*). One line per leftover, empty when clean.
 */
const LEFTOVERS = String.raw`
for u in kubelet kube-proxy containerd haproxy kubepods.slice kubesmith.slice kube-apiserver kube-controller-manager kube-scheduler etcd; do
  systemctl is-active -q "$u" && echo "active unit $u"; systemctl is-enabled -q "$u" 2>/dev/null && echo "enabled unit $u"
done
for f in /etc/systemd/system/kubelet.service /etc/systemd/system/kube-proxy.service /etc/systemd/system/containerd.service \
  /etc/systemd/system/haproxy.service.d /etc/haproxy/haproxy.cfg /etc/kubernetes /var/lib/kubelet /var/lib/kube-proxy \
  /etc/containerd /etc/crictl.yaml /var/lib/containerd /run/containerd /opt/cni /etc/cni /var/lib/cni /run/flannel \
  /var/log/pods /var/log/containers /var/lib/kubesmith /opt/kube /etc/kubesmith /etc/sysctl.d/95-kubesmith.conf \
  /etc/modules-load.d/kubesmith.conf /etc/systemd/journald.conf.d/95-kubesmith.conf /etc/security/limits.d/95-kubesmith.conf \
  /etc/systemd/system/kube-apiserver.service /etc/systemd/system/kube-controller-manager.service \
  /etc/systemd/system/kube-scheduler.service /etc/systemd/system/etcd.service /etc/etcd /var/log/kubernetes \
  /etc/chrony/sources.d/kubesmith.sources; do
  if mountpoint -q "$f"; then [ -z "$(ls -A "$f")" ] || echo "files in mount point $f"; elif [ -e "$f" ]; then echo "file $f"; fi
done
[ -d /var/lib/etcd ] && find /var/lib/etcd -mindepth 1 -maxdepth 1 ! -name 'kubesmith-*' -printf 'etcd data %p\n'
find /usr/local/bin -maxdepth 1 -type l -lname '/opt/kube/*' -printf 'link %p\n'
for p in kubelet kube-proxy containerd containerd-shim-runc-v2 haproxy flanneld pause agnhost kube-apiserver kube-controller-manager kube-scheduler etcd; do
  pgrep -x "$p" >/dev/null && echo "process $p"
done
ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -E '^(cni0|flannel|kube-ipvs0|nodelocaldns|veth|cali)' | sed 's/^/interface /'
for t in iptables-save ip6tables-save; do $t | grep -E '^:(KUBE-|FLANNEL-|CNI-)' | sed "s/^/$t chain /"; done
findmnt -rn -o TARGET | grep -E '^(/var/lib/kubelet|/var/lib/containerd|/run/containerd|/run/netns)/' | sed 's/^/mount /'
grep -q 'kubesmith managed block' /etc/hosts && echo 'hosts block'
true`;

interface UnitSeen {
  active: string;
  enabled: string;
  /**
   * When systemd last finished a stop or a start job of the unit, from the host's journal (µs
   * since the epoch: nspawn machines share the deploy machine's clock, so hosts compare). Not
   * `systemctl show`'s timestamps: a unit stopped and disabled is unloaded, and loaded again
   * without them.
   */
  inactiveAt: number;
  activeAt: number;
}

/** The last finished job of each type per unit, from PID 1's structured journal fields. */
async function jobTimes(shell: Shell, index: number): Promise<Map<string, { stop: number; start: number }>> {
  const out = await shell.run(index, 'journalctl -o json --no-pager _PID=1 JOB_RESULT=done');
  const times = new Map<string, { stop: number; start: number }>();
  for (const line of out.split('\n').filter((l) => l.startsWith('{'))) {
    const entry = JSON.parse(line) as { UNIT?: string; JOB_TYPE?: string; __REALTIME_TIMESTAMP: string };
    const type = entry.JOB_TYPE;
    if (!entry.UNIT || (type !== 'stop' && type !== 'start')) continue;
    const unit = entry.UNIT.replace(/\.service$/, '');
    const seen = times.get(unit) ?? { stop: 0, start: 0 };
    seen[type] = Math.max(seen[type], Number(entry.__REALTIME_TIMESTAMP));
    times.set(unit, seen);
  }
  return times;
}

/** `systemctl show` of the units as data (one block per unit, key=value lines), with their job times. */
async function unitsOn(shell: Shell, index: number): Promise<Map<string, UnitSeen>> {
  const out = await shell.run(
    index,
    `systemctl show -p Id,LoadState,ActiveState,UnitFileState ${UNITS.map((u) => `${u}.service`).join(' ')}`,
  );
  const jobs = await jobTimes(shell, index);
  const seen = new Map<string, UnitSeen>();
  for (const block of out.split(/\n\s*\n/)) {
    const kv = new Map(
      block.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    if (kv.get('LoadState') !== 'loaded') continue;
    const unit = kv.get('Id')!.replace(/\.service$/, '');
    seen.set(unit, {
      active: kv.get('ActiveState')!,
      enabled: kv.get('UnitFileState')!,
      inactiveAt: jobs.get(unit)?.stop ?? 0,
      activeAt: jobs.get(unit)?.start ?? 0,
    });
  }
  return seen;
}

/** Every host's units, and the times of a phase's units over all hosts. */
async function allUnits(shell: Shell, hosts: number[]) {
  const seen = await Promise.all(hosts.map((i) => unitsOn(shell, i)));
  const times = (units: string[], field: 'inactiveAt' | 'activeAt') =>
    seen.flatMap((m) => units.flatMap((u) => (m.has(u) ? [m.get(u)![field]] : [])));
  return { seen, times };
}

/**
 * start, stop and destroy on a running cluster (run last: destroy leaves nothing). `masters` and
 * `all` are lab machine indexes; etcd members are read from the inventory.
 */
export function powerAndDestroyTests(lab: string, shell: Shell, masters: number[], all: number[]): void {
  const backups = join(shell.clusterDir, 'backups');
  const listBackups = () => (existsSync(backups) ? readdirSync(backups).sort() : []);
  const inventory = () => parse(readFileSync(join(shell.clusterDir, 'inventory.yaml'), 'utf8'));

  it('stop: a snapshot, then kubelet/kube-proxy, the control plane, etcd last; every unit inactive and disabled, pods still running', async () => {
    const before = listBackups();
    const run = await kubesmith('stop', lab, '--yes');
    expect(run.exitCode, run.all).toBe(0);
    expect(run.stdout).toContain(`stop plan for cluster ${lab}`);
    // A new backup (the oldest may have been pruned to keep the count: compare names, not counts).
    expect(listBackups().filter((b) => !before.includes(b))).toHaveLength(1);
    const { seen, times } = await allUnits(shell, all);
    for (const [i, units] of seen.entries())
      for (const [unit, s] of units) {
        expect(`${all[i]} ${unit} ${s.active}`).toBe(`${all[i]} ${unit} inactive`);
        expect(`${all[i]} ${unit} ${s.enabled}`).toBe(`${all[i]} ${unit} disabled`);
      }
    const kubelets = times(KUBELET, 'inactiveAt');
    const controlPlane = times(CONTROL_PLANE, 'inactiveAt');
    const etcd = times(ETCD, 'inactiveAt');
    expect(kubelets.length).toBeGreaterThanOrEqual(all.length * 2);
    expect(controlPlane.length).toBe(masters.length * 3);
    expect(etcd.length).toBeGreaterThan(0);
    for (const t of [...kubelets, ...controlPlane, ...etcd]) expect(t).toBeGreaterThan(0);
    expect(Math.max(...kubelets)).toBeLessThan(Math.min(...controlPlane));
    expect(Math.max(...controlPlane)).toBeLessThan(Math.min(...etcd));
    // kubelet stopped leaves the pods' containers running under containerd.
    expect(await shell.run(masters[0]!, 'systemctl is-active containerd')).toBe('active');
    expect(Number(await shell.run(masters[0]!, 'crictl ps -q | wc -l'))).toBeGreaterThan(0);
  });

  it('start: etcd, the control plane, then kubelet/kube-proxy; every unit active and enabled; verify 0 fail', async () => {
    const run = await kubesmith('start', lab);
    expect(run.exitCode, run.all).toBe(0);
    expect(run.stdout).toMatch(/verify .*: \d+ ok, \d+ warn, 0 fail/);
    const { seen, times } = await allUnits(shell, all);
    for (const [i, units] of seen.entries())
      for (const [unit, s] of units)
        expect(`${all[i]} ${unit} ${s.active} ${s.enabled}`).toBe(`${all[i]} ${unit} active enabled`);
    for (const t of times([...ETCD, ...CONTROL_PLANE, ...KUBELET], 'activeAt')) expect(t).toBeGreaterThan(0);
    expect(Math.max(...times(ETCD, 'activeAt'))).toBeLessThan(Math.min(...times(CONTROL_PLANE, 'activeAt')));
    expect(Math.max(...times(CONTROL_PLANE, 'activeAt'))).toBeLessThan(
      Math.min(...times(KUBELET, 'activeAt')),
    );
  });

  it('destroy with a missing or wrong confirmation name is refused before any host is touched', async () => {
    const before = await unitsOn(shell, masters[0]!);
    for (const args of [[], ['--yes-really-destroy', `${lab}-not`]]) {
      const run = await kubesmith('destroy', lab, ...args);
      expect(run.exitCode, run.all).toBe(2);
      expect(run.stderr).toMatch(/destroy refused/);
      expect(run.stdout).not.toContain('destroy plan');
    }
    expect(await unitsOn(shell, masters[0]!)).toEqual(before);
  });

  it('destroy: a last snapshot on the deploy machine, then every host clean; etcd data kept aside; clusters/<name>/ kept', async () => {
    const before = listBackups();
    const etcdMembers: string[] = inventory()
      .hosts.filter((h: { roles: string[] }) => h.roles.includes('etcd'))
      .map((h: { name: string }) => h.name);
    const run = await kubesmith('destroy', lab, '--yes-really-destroy', lab);
    expect(run.exitCode, run.all).toBe(0);
    expect(run.stdout).toContain(`destroy plan for cluster ${lab}`);
    const added = listBackups().filter((b) => !before.includes(b));
    expect(added).toHaveLength(1);
    const manifest = JSON.parse(readFileSync(join(backups, added[0]!, 'manifest.json'), 'utf8'));
    expect(manifest.note).toBe('before destroy');
    for (const i of all) expect(`${i}:\n${await shell.run(i, LEFTOVERS)}`).toBe(`${i}:\n`);
    for (const name of etcdMembers) {
      const i = Number(name.slice(lab.length + 1)) - 1;
      // Data kept aside earlier (a restore's kubesmith-before-restore-*) stays aside too.
      const kept = await shell.run(i, 'ls -d /var/lib/etcd/kubesmith-removed-* | xargs -n1 basename');
      expect(kept, name).toMatch(/^kubesmith-removed-\S+$/);
      expect(await shell.run(i, `ls /var/lib/etcd/${kept}`), name).toBe('member');
    }
    for (const kept of ['inventory.yaml', 'pki']) expect(existsSync(join(shell.clusterDir, kept))).toBe(true);
  });
}
