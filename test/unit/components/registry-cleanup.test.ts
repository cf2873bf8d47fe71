import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CONTAINERD_PATHS,
  configuredRegistries,
  HOSTS_TOML_MARKER,
  registryHostFiles,
  staleRegistryCleanup,
} from '../../../src/components/containerd.js';
import { inventorySchema } from '../../../src/inventory/schema.js';

const inventoryWith = (cluster: Record<string, unknown>) =>
  inventorySchema.parse({
    cluster: { name: 'prod', ...cluster },
    hosts: [{ name: 'n1', address: '10.0.0.1', roles: ['etcd', 'master'] }],
  });

const before = inventoryWith({
  registryMirrors: { 'docker.io': ['https://mirror.example'], 'quay.io': ['https://quay.mirror.example'] },
  insecureRegistries: ['harbor.local:5000', 'old.local:5000'],
});
const after = inventoryWith({
  registryMirrors: { 'docker.io': ['https://mirror.example'] },
  insecureRegistries: ['harbor.local:5000'],
});

/** Runs an argv the way the engine does on a host, here with /bin/sh on this machine. */
const run = (argv: readonly string[]) =>
  execa(argv[0]!, argv.slice(1), { reject: false }).then((r) => r.exitCode);

let work = '';
afterEach(() => rmSync(work, { recursive: true, force: true }));

/** Writes what kubesmith wrote for `before` into a certs.d of its own, plus an administrator's file. */
function certsDirAsBefore(): string {
  work = mkdtempSync(join(tmpdir(), 'ks-certsd-'));
  const certsDir = join(work, 'certs.d');
  for (const [path, content] of registryHostFiles(before)) {
    const local = join(certsDir, path.slice(CONTAINERD_PATHS.certsDir.length + 1));
    mkdirSync(dirname(local), { recursive: true });
    writeFileSync(local, content);
  }
  // The administrator's own registry config, never written by kubesmith.
  mkdirSync(join(certsDir, 'own.local'), { recursive: true });
  writeFileSync(join(certsDir, 'own.local', 'hosts.toml'), 'server = "https://own.local"\n');
  // A CA next to a stale hosts.toml keeps its directory.
  writeFileSync(join(certsDir, 'quay.io', 'ca.crt'), 'a CA\n');
  return certsDir;
}

describe('hosts.toml of registries removed from the inventory', () => {
  it('marks every hosts.toml it writes on the first line', () => {
    for (const content of registryHostFiles(before).values())
      expect(content.split('\n')[0]?.startsWith(HOSTS_TOML_MARKER)).toBe(true);
  });

  it('removes only the marked files of registries no longer configured, and is a no-op after', async () => {
    const certsDir = certsDirAsBefore();
    const cleanup = staleRegistryCleanup(configuredRegistries(after), certsDir);
    expect(cleanup.kind).toBe('command');
    expect(await run(cleanup.unless!)).toBe(1);

    expect(await run(cleanup.argv)).toBe(0);
    expect(existsSync(join(certsDir, 'old.local:5000'))).toBe(false);
    expect(existsSync(join(certsDir, 'quay.io', 'hosts.toml'))).toBe(false);
    expect(readFileSync(join(certsDir, 'quay.io', 'ca.crt'), 'utf8')).toBe('a CA\n');
    expect(existsSync(join(certsDir, 'own.local', 'hosts.toml'))).toBe(true);
    expect(readFileSync(join(certsDir, 'harbor.local:5000', 'hosts.toml'), 'utf8')).toContain(
      'skip_verify = true',
    );
    expect(existsSync(join(certsDir, 'docker.io', 'hosts.toml'))).toBe(true);

    // Converged: the guard holds, so the engine runs nothing on the next setup 03.
    expect(await run(cleanup.unless!)).toBe(0);
  });

  it('with no registry left, removes every marked file; a missing certs.d is nothing to do', async () => {
    const certsDir = certsDirAsBefore();
    const none = staleRegistryCleanup(configuredRegistries(inventoryWith({})), certsDir);
    expect(await run(none.argv)).toBe(0);
    expect(existsSync(join(certsDir, 'docker.io'))).toBe(false);
    expect(existsSync(join(certsDir, 'harbor.local:5000'))).toBe(false);
    expect(existsSync(join(certsDir, 'own.local', 'hosts.toml'))).toBe(true);
    expect(await run(none.unless!)).toBe(0);

    const missing = staleRegistryCleanup([], join(work, 'absent'));
    expect(await run(missing.unless!)).toBe(0);
  });

  it('reads a marked file without a trailing newline', async () => {
    const certsDir = certsDirAsBefore();
    writeFileSync(join(certsDir, 'old.local:5000', 'hosts.toml'), HOSTS_TOML_MARKER);
    const cleanup = staleRegistryCleanup(configuredRegistries(after), certsDir);
    expect(await run(cleanup.argv)).toBe(0);
    expect(existsSync(join(certsDir, 'old.local:5000'))).toBe(false);
  });
});
