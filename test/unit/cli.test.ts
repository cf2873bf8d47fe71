import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const bad = join(ROOT, 'test', 'fixtures', 'inventories', 'bad');

function cli(args: string[], home = mkdtempSync(join(tmpdir(), 'ks-cli-'))) {
  return execa('node', ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), ...args], {
    reject: false,
    env: { KUBESMITH_HOME: home, CI: 'true' },
  });
}

describe('kubesmith CLI', () => {
  it('exits 2 on a bad inventory and prints every problem as file:line: path: message', async () => {
    const result = await cli(['validate', '-i', join(bad, '32-many-at-once.yaml')]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`${join(bad, '32-many-at-once.yaml')}:8: cluster.network.plugin:`);
    expect(result.stderr.match(/^ {2}\//gm)).toHaveLength(3);
  });

  it('refuses setup on a bad inventory before touching any host', async () => {
    const result = await cli(['setup', '-i', join(bad, '14-duplicate-address.yaml'), 'all']);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
  });

  it('new scaffolds an inventory named after the cluster, and will not overwrite it', async () => {
    const home = mkdtempSync(join(tmpdir(), 'ks-cli-'));
    expect((await cli(['new', 'alpha'], home)).exitCode).toBe(0);
    expect(readFileSync(join(home, 'clusters', 'alpha', 'inventory.yaml'), 'utf8')).toMatch(
      /^ {2}name: alpha$/m,
    );
    const again = await cli(['new', 'alpha'], home);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain('already exists');
    expect((await cli(['new', 'Bad_Name'], home)).exitCode).toBe(2);
  });

  it('says when the identity file is not a usable key', async () => {
    const result = await cli([
      'check',
      '-i',
      join(ROOT, 'test', 'fixtures', 'inventories', 'good', 'unreachable.yaml'),
    ]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/cannot use .*id_test as a private key/);
  });

  it('names an unknown step and the choices', async () => {
    const result = await cli([
      'setup',
      '-i',
      join(ROOT, 'test', 'fixtures', 'inventories', 'good', 'minimal.yaml'),
      'nope',
    ]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("no step 'nope' in setup; choose one of: all, 01 (prepare)");
  });

  it('reports an unreachable host with exit 3 (as the README says) and a summary row', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ks-cli-'));
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'key')]);
    const inventory = readFileSync(
      join(ROOT, 'test', 'fixtures', 'inventories', 'good', 'unreachable.yaml'),
      'utf8',
    ).replace('../keys/id_test', join(dir, 'key'));
    writeFileSync(join(dir, 'inventory.yaml'), inventory);
    const result = await cli(['setup', '-i', join(dir, 'inventory.yaml'), 'all']);
    expect(result.exitCode).toBe(3);
    expect(result.stdout).toMatch(/m1 +failed +0 +connect +m1 \(127\.0\.0\.1:1\): connection refused/);
  });

  it('Ctrl-C interrupts a run cleanly with 130, and a second Ctrl-C exits at once', async () => {
    // A "host" that accepts the TCP connection and never says a word: the run waits in connect.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as AddressInfo).port;
    const dir = mkdtempSync(join(tmpdir(), 'ks-cli-'));
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'key')]);
    writeFileSync(
      join(dir, 'inventory.yaml'),
      `cluster: { name: silent }\nssh: { identityFile: ${join(dir, 'key')}, port: ${port} }\nhosts:\n  - { name: m1, address: 127.0.0.1, roles: [etcd, master] }\n`,
    );
    const interrupt = async (times: number) => {
      const started = sockets.length;
      const run = cli(['setup', '-i', join(dir, 'inventory.yaml'), 'all'], dir);
      while (sockets.length === started) await new Promise((r) => setTimeout(r, 50));
      const sent = Date.now();
      for (let i = 0; i < times; i++) run.kill('SIGINT');
      const result = await run;
      return { result, ms: Date.now() - sent };
    };
    try {
      const once = await interrupt(1);
      expect(once.result.exitCode).toBe(130);
      expect(once.result.stderr).toContain('interrupting: finishing cleanly');
      expect(once.ms).toBeLessThan(5000);
      const twice = await interrupt(2);
      expect(twice.result.exitCode).toBe(130);
      expect(twice.ms).toBeLessThan(5000);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });
});
