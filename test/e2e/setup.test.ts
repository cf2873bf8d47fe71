import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBundleManifest } from '../../src/artifacts/bundle.js';
import { skipWithout } from '../helpers/prerequisite.js';
import { CLI, E2E_HOME, kubesmith, LAB_BUNDLE, labShell, labUnavailable } from './harness.js';

const unavailable = skipWithout('setup e2e', labUnavailable());

const LAB = 'e2e-setup';
const shell = labShell(LAB);
const { clusterDir } = shell;
const inventoryFile = join(clusterDir, 'inventory.yaml');
const bundle = LAB_BUNDLE;
let addresses: string[] = [];
const onHost = (index: number, command: string) => shell.run(index, command);

/** etcdctl from the deploy machine (the bundle's binary) with kubesmith's client certificate. */
function etcdctl(endpoints: string[], args: string[], withCert = true) {
  const pki = join(clusterDir, 'pki', 'etcd');
  const tls = withCert ? [`--cert=${pki}/kubesmith-client.crt`, `--key=${pki}/kubesmith-client.key`] : [];
  return execa(
    join(bundle, 'bin', 'etcdctl'),
    [`--endpoints=${endpoints.join(',')}`, `--cacert=${pki}/ca.crt`, ...tls, '--command-timeout=3s', ...args],
    {
      reject: false,
      env: { ETCDCTL_API: '3' },
    },
  );
}

const jsonEvents = (stdout: string) =>
  stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

async function restartStamps(): Promise<string[]> {
  return Promise.all(
    [0, 1, 2].map((i) => onHost(i, 'systemctl show -p ActiveEnterTimestampMonotonic etcd containerd')),
  );
}

describe.skipIf(unavailable)('setup 01-03 on three lab machines (all etcd + master)', () => {
  beforeAll(async () => {
    await kubesmith('lab', 'down', '--name', LAB);
    rmSync(clusterDir, { recursive: true, force: true });
    const up = await kubesmith('lab', 'up', '3', '--name', LAB);
    expect(up.exitCode, up.all).toBe(0);
    addresses = shell.learn(up.stdout);
  });
  afterAll(async () => {
    await kubesmith('lab', 'down', '--name', LAB);
  });

  it('01 prepares every host', async () => {
    const run = await kubesmith('setup', LAB, '01');
    expect(run.exitCode, run.all).toBe(0);
    expect(run.stdout).toContain('skipping read-only sysctls');
    for (const i of [0, 1, 2]) {
      expect(await onHost(i, 'hostname')).toBe(`${LAB}-${i + 1}`);
      const hosts = await onHost(i, 'cat /etc/hosts');
      for (const n of [1, 2, 3]) expect(hosts).toMatch(new RegExp(`^\\S+ ${LAB}-${n}$`, 'm'));
      expect(await onHost(i, 'sysctl -n net.ipv4.ip_forward')).toBe('1');
    }
  });

  it('02 builds a TLS etcd cluster that answers kubesmith and refuses everyone else', async () => {
    const run = await kubesmith('setup', LAB, 'etcd');
    expect(run.exitCode, run.all).toBe(0);
    const endpoints = addresses.map((a) => `https://${a}:2379`);
    const health = await etcdctl(endpoints, ['endpoint', 'health', '-w', 'json']);
    expect(health.exitCode, health.stderr).toBe(0);
    const report = JSON.parse(health.stdout) as { health: boolean }[];
    expect(report.filter((h) => h.health)).toHaveLength(3);
    expect(
      (await etcdctl([endpoints[0]!], ['put', 'kubesmith-e2e', 'written-through-member-1'])).exitCode,
    ).toBe(0);
    expect(
      (await etcdctl([endpoints[2]!], ['get', 'kubesmith-e2e', '--print-value-only'])).stdout.trim(),
    ).toBe('written-through-member-1');
    expect((await etcdctl([endpoints[2]!], ['get', 'kubesmith-e2e'], false)).exitCode).not.toBe(0);
    expect((await etcdctl([`http://${addresses[2]}:2379`], ['get', 'kubesmith-e2e'])).exitCode).not.toBe(0);
    const verify = await execa('openssl', [
      'verify',
      '-CAfile',
      join(clusterDir, 'pki', 'etcd', 'ca.crt'),
      join(clusterDir, 'pki', 'etcd', `server-${LAB}-1.crt`),
    ]);
    expect(verify.stdout).toMatch(/: OK$/);
    for (const i of [0, 1, 2]) {
      expect(
        await onHost(
          i,
          'openssl verify -CAfile /etc/etcd/pki/ca.crt /etc/etcd/pki/server.crt /etc/etcd/pki/peer.crt',
        ),
      ).toBe('/etc/etcd/pki/server.crt: OK\n/etc/etcd/pki/peer.crt: OK');
    }
  });

  it('03 runs containerd on every host', async () => {
    const run = await kubesmith('setup', LAB, '03');
    expect(run.exitCode, run.all).toBe(0);
    for (const i of [0, 1, 2]) {
      expect(await onHost(i, 'systemctl is-active containerd')).toBe('active');
      expect(await onHost(i, 'ctr --address /run/containerd/containerd.sock version')).toMatch(/Server:/);
    }
    // What `crictl info` asks (CRI RuntimeService Version and Status), through socat on each host.
    expect(run.stdout.match(/CRI answers: containerd v?2\.\S+ \(API v1\), runtime ready/g)).toHaveLength(3);
    // The bundle's etcd and containerd are what runs.
    const manifest = await readBundleManifest(bundle);
    const version = (name: string) => manifest.artifacts.find((a) => a.name === name)?.version;
    expect(await onHost(0, 'etcd --version')).toContain(`etcd Version: ${version('etcd')}`);
    expect(await onHost(0, 'containerd --version')).toContain(`v${version('containerd')}`);
    // Every bundle image, under its exact name, imported and pinned; a pod sandbox of pause ran.
    const images = JSON.parse(await onHost(1, 'crictl images -o json')) as {
      images: { repoTags: string[]; id: string; pinned: boolean }[];
    };
    for (const image of manifest.images) {
      const found = images.images.find((i) => i.repoTags.includes(image.name));
      expect(found?.id, image.name).toBe(image.configDigest);
      expect(found?.pinned, image.name).toBe(true);
    }
    expect(run.stdout.match(/a pod sandbox started, was ready, and was removed/g)).toHaveLength(3);
  });

  it('a re-run changes nothing, uploads nothing, restarts nothing, with at most 3 commands per host per step', async () => {
    const before = await restartStamps();
    const run = await kubesmith('setup', LAB, '01-03', '--output', 'json');
    expect(run.exitCode, run.all).toBe(0);
    const events = jsonEvents(run.stdout);
    const steps = events.filter((e) => e.type === 'step-start').length;
    const end = events.find((e) => e.type === 'run-end');
    expect(end.summary.changed).toBe(0);
    for (const host of end.summary.hosts) {
      expect(host.bytesUploaded).toBe(0);
      expect((host.commands - 1) / steps).toBeLessThanOrEqual(3);
    }
    expect(await restartStamps()).toEqual(before);
  });

  it('shows a task list in a terminal, and plain lines in a terminal without a width', async () => {
    const inTerminal = async (columns: number) => {
      const command = `stty cols ${columns} rows 40; ${process.execPath} ${CLI} setup ${LAB} 01`;
      const { CI: _ci, ...env } = process.env;
      const run = await execa('script', ['-qec', command, '/dev/null'], {
        reject: false,
        env: { ...env, KUBESMITH_HOME: E2E_HOME, TERM: 'xterm' },
        extendEnv: false,
      });
      // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping terminal escapes
      return run.stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replaceAll('\r', '\n');
    };
    const wide = await inTerminal(120);
    for (const i of [1, 2, 3]) expect(wide).toMatch(new RegExp(`✔ ${LAB}-${i}: 0 changed in`));
    expect(wide).toContain('prepare: Prepare the OS');
    const narrow = await inTerminal(0);
    expect(narrow).not.toContain('✔');
    expect(narrow).toContain('3 host(s), 0 change(s), 0 failed');
  });

  it('dry-run after a completed run reports nothing to do', async () => {
    const run = await kubesmith('setup', LAB, '01-03', '--dry-run');
    expect(run.exitCode, run.all).toBe(0);
    expect(run.stdout).toContain('0 change(s)');
  });

  it('drift in a sysctl file: only that file changes and only sysctl runs', async () => {
    await onHost(
      1,
      "sed -i 's/somaxconn = 32768/somaxconn = 1024/' /etc/sysctl.d/95-kubesmith.conf && sysctl -q -w net.core.somaxconn=1024",
    );
    const dry = await kubesmith('setup', LAB, '01', '--dry-run');
    expect(dry.stdout).toMatch(/-net\.core\.somaxconn = 1024\n\+net\.core\.somaxconn = 32768/);
    const run = await kubesmith('setup', LAB, '01-03', '--output', 'json');
    const changed = jsonEvents(run.stdout).filter(
      (e) => e.type === 'action' && e.result.status === 'changed',
    );
    expect(changed.map((e) => `${e.host} ${e.result.target}`).sort()).toEqual([
      `${LAB}-2 /etc/sysctl.d/95-kubesmith.conf`,
      `${LAB}-2 sysctl -p /etc/sysctl.d/95-kubesmith.conf`,
    ]);
    expect(await onHost(1, 'sysctl -n net.core.somaxconn')).toBe('32768');
  });

  it('drift in a binary: the changed one is noticed by size and mtime, uploaded again, and recorded', async () => {
    expect(await onHost(0, 'cat /var/lib/kubesmith/checksums')).toMatch(
      /^[0-9a-f]{64} \d+:\d+ \/opt\/kube\/bin\/containerd$/m,
    );
    await onHost(0, 'printf x >> /opt/kube/bin/runc');
    const run = await kubesmith('setup', LAB, '03', '--output', 'json');
    expect(run.exitCode, run.all).toBe(0);
    const changed = jsonEvents(run.stdout).filter(
      (e) => e.type === 'action' && e.result.status === 'changed',
    );
    expect(changed.map((e) => `${e.host} ${e.result.target}`)).toEqual([`${LAB}-1 /opt/kube/bin/runc`]);
    const again = await kubesmith('setup', LAB, '03', '--output', 'json');
    expect(jsonEvents(again.stdout).find((e) => e.type === 'run-end').summary.changed).toBe(0);
  });

  it('a new registry mirror writes hosts.toml and restarts nothing', async () => {
    const original = readFileSync(inventoryFile, 'utf8');
    const before = await restartStamps();
    writeFileSync(
      inventoryFile,
      original.replace(
        'cluster:\n',
        'cluster:\n  registryMirrors:\n    docker.io: [https://mirror.example]\n',
      ),
    );
    try {
      const run = await kubesmith('setup', LAB, '01-03', '--output', 'json');
      expect(run.exitCode, run.all).toBe(0);
      const changed = jsonEvents(run.stdout).filter(
        (e) => e.type === 'action' && e.result.status === 'changed',
      );
      expect(new Set(changed.map((e) => e.result.target))).toEqual(
        new Set(['/etc/containerd/certs.d/docker.io/hosts.toml']),
      );
      expect(changed).toHaveLength(3);
      expect(await onHost(0, 'cat /etc/containerd/certs.d/docker.io/hosts.toml')).toContain(
        '[host."https://mirror.example"]',
      );
      expect(await restartStamps()).toEqual(before);
    } finally {
      writeFileSync(inventoryFile, original);
    }
  });

  it('prepare.ntpServers configures chrony (not started inside a container)', async () => {
    const original = readFileSync(inventoryFile, 'utf8');
    writeFileSync(inventoryFile, `${original}prepare:\n  ntpServers: [time.lab.internal]\n`);
    try {
      const run = await kubesmith('setup', LAB, '01');
      expect(run.exitCode, run.all).toBe(0);
      expect(run.stdout).toContain('chrony configured but not started');
      expect(await onHost(0, 'cat /etc/chrony/sources.d/kubesmith.sources')).toContain(
        'server time.lab.internal iburst',
      );
    } finally {
      writeFileSync(inventoryFile, original);
    }
  });

  it('verify passes on the built hosts', async () => {
    const run = await kubesmith('verify', LAB, '01-03');
    expect(run.exitCode, run.all).toBe(0);
    expect(run.stdout).toContain('etcd healthy: 3 members');
  });

  it('verify sees a containerd running with another config than the rendered one', async () => {
    await onHost(
      0,
      'sed -i \'s#sandbox = .*#sandbox = "example.invalid/pause:0"#\' /etc/containerd/config.toml && systemctl restart containerd',
    );
    // containerd 2.x reports no image config in its CRI status: the pod sandbox images' verify
    // starts runs into the sandbox image containerd actually loaded.
    const drifted = await kubesmith('verify', LAB, '01-03');
    expect(drifted.exitCode).toBe(1);
    expect(drifted.stdout).toContain('example.invalid/pause:0');
    const repaired = await kubesmith('setup', LAB, '03');
    expect(repaired.exitCode, repaired.all).toBe(0);
    expect((await kubesmith('verify', LAB, '01-03')).exitCode).toBe(0);
  });

  describe('bad input reaches no host', () => {
    const variant = (name: string, edit: (inventory: string) => string) => {
      const file = join(clusterDir, `${name}.yaml`);
      writeFileSync(file, edit(readFileSync(inventoryFile, 'utf8')));
      return file;
    };
    const untouched = (stdout: string) => expect(stdout).not.toMatch(/^== /m);

    it('a bundle missing etcd', async () => {
      const dir = join(E2E_HOME, 'bad-bundle-no-etcd');
      cpSync(bundle, dir, { recursive: true });
      const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
      manifest.artifacts = manifest.artifacts.filter((a: { name: string }) => a.name !== 'etcd');
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
      const run = await kubesmith(
        'setup',
        '-i',
        variant('no-etcd', (t) => t.replace(bundle, dir)),
        '01-03',
      );
      expect(run.exitCode).toBe(1);
      expect(run.stdout).toContain(`the bundle ${dir} has no bin/etcd`);
      untouched(run.stdout);
    });

    it('a corrupt artifact', async () => {
      const dir = join(E2E_HOME, 'bad-bundle-corrupt');
      cpSync(bundle, dir, { recursive: true });
      writeFileSync(join(dir, 'bin', 'runc'), 'not runc');
      const run = await kubesmith(
        'setup',
        '-i',
        variant('corrupt', (t) => t.replace(bundle, dir)),
        '01-03',
      );
      expect(run.exitCode).toBe(1);
      expect(run.stdout).toMatch(/bin\/runc is corrupt: sha256 \w+, manifest says \w+; rebuild the bundle/);
      untouched(run.stdout);
    });

    it('an unreachable host', async () => {
      const ghost = addresses[2]!.replace(/\.\d+$/, '.250');
      const run = await kubesmith(
        'setup',
        '-i',
        variant('ghost', (t) =>
          t.replace(/^hosts:\n/m, `hosts:\n  - name: ghost\n    address: ${ghost}\n    roles: [node]\n`),
        ),
        '01-03',
      );
      // Could not connect: exit 3, as the README says.
      expect(run.exitCode).toBe(3);
      expect(run.stdout).toMatch(/ghost +failed +0 +connect +ghost \(.*\): /);
      untouched(run.stdout);
    });

    it('a host without sudo', async () => {
      await onHost(
        0,
        'id plain >/dev/null 2>&1 || useradd -m -s /bin/sh plain; usermod -p "*" plain; install -d -o plain -m 700 /home/plain/.ssh; install -o plain -m 600 /root/.ssh/authorized_keys /home/plain/.ssh/authorized_keys',
      );
      const run = await kubesmith(
        'setup',
        '-i',
        variant('nosudo', (t) => t.replace(`name: ${LAB}-1\n`, `name: ${LAB}-1\n    ssh: { user: plain }\n`)),
        '01-03',
      );
      expect(run.exitCode).toBe(3);
      expect(run.stdout).toMatch(/sudo for user 'plain' needs a password — hint: .*--ask-become-pass/);
      untouched(run.stdout);
    });

    it('a kernel upgrade asked of machines that are containers (all refused before any step)', async () => {
      const run = await kubesmith(
        'setup',
        '-i',
        variant('kernel', (t) => `${t}prepare:\n  kernelUpgrade: { enabled: true }\n`),
        '01',
      );
      expect(run.exitCode).toBe(1);
      expect(run.stdout).toContain(
        'prepare.kernelUpgrade: runs in a container (systemd-nspawn): its kernel belongs to the machine that runs it',
      );
      // Refused for every host at once, before any step started anywhere.
      for (const i of [1, 2, 3])
        expect(run.stdout).toContain(`preflight refused ${LAB}-${i}: prepare.kernelUpgrade`);
      untouched(run.stdout);
    });
  });
});
