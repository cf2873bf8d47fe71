import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyResources, leftoversShell } from '../../../src/engine/apply.js';
import type { Resource } from '../../../src/engine/resources.js';
import { KnownHosts } from '../../../src/transport/known-hosts.js';
import { SshConnection } from '../../../src/transport/ssh.js';
import { skipWithout } from '../../helpers/prerequisite.js';
import { sshdUnavailable, TestSshd } from '../../helpers/sshd.js';

const OTHER_SIZE = 3 * 1024 * 1024;
const unavailable = skipWithout('apply tests against a real sshd', sshdUnavailable());

describe.skipIf(unavailable)('applyResources: one probe, only what differs (real sshd on loopback)', () => {
  let sshd: TestSshd;
  let conn: SshConnection;
  let dir: string;
  let binary: Buffer;
  let resources: Resource[];

  beforeAll(async () => {
    sshd = await TestSshd.start();
    conn = await SshConnection.open({
      name: 'apply-host',
      address: '127.0.0.1',
      port: sshd.port,
      user: 'root',
      identityFile: sshd.clientKey,
      hostKeyPolicy: 'accept-new',
      knownHosts: new KnownHosts(join(sshd.dir, 'known_hosts')),
      connectTimeoutMs: 5000,
    });
    dir = join(sshd.dir, 'target');
    binary = randomBytes(2 * 1024 * 1024);
    const localPath = join(sshd.dir, 'tool.bin');
    writeFileSync(localPath, binary);
    const sha256 = createHash('sha256').update(binary).digest('hex');
    const otherPath = join(sshd.dir, 'other.bin');
    writeFileSync(otherPath, randomBytes(OTHER_SIZE));
    const otherSha = createHash('sha256').update(readFileSync(otherPath)).digest('hex');
    resources = [
      { kind: 'directory', path: dir, mode: 0o750 },
      { kind: 'file', path: join(dir, 'bin', 'tool'), content: { localPath, sha256 }, mode: 0o755 },
      { kind: 'file', path: join(dir, 'bin', 'other'), content: { localPath: otherPath, sha256: otherSha } },
      { kind: 'file', path: join(dir, 'secret.key'), content: 'not for others\n', mode: 0o600 },
      { kind: 'file', path: join(dir, 'empty'), content: '' },
      { kind: 'symlink', path: join(dir, 'tool'), target: join(dir, 'bin', 'tool') },
      { kind: 'command', title: 'stamp', argv: ['touch', join(dir, 'stamp')], creates: join(dir, 'stamp') },
    ];
  });
  afterAll(async () => {
    conn?.close();
    await sshd?.destroy();
  });

  const apply = async () => {
    const before = { ...conn.stats };
    const results = await applyResources(conn, resources, {
      dryRun: false,
      compressedDir: join(sshd.dir, 'compressed'),
    });
    return {
      changed: results.filter((r) => r.status === 'changed').map((r) => r.target),
      commands: conn.stats.commands - before.commands,
      bytes: conn.stats.bytesUploaded - before.bytesUploaded,
    };
  };

  it('creates every kind of resource, then a re-run is one probe that changes nothing', async () => {
    const first = await apply();
    expect(first.changed).toHaveLength(resources.length);
    // Both binaries stream at once: every byte is counted (a lost update would undercount).
    expect(first.bytes).toBe(binary.length + OTHER_SIZE + 'not for others\n'.length);
    expect(readFileSync(join(dir, 'bin', 'tool')).equals(binary)).toBe(true);
    expect(statSync(join(dir, 'bin', 'tool')).mode & 0o777).toBe(0o755);
    expect(readFileSync(join(dir, 'secret.key'), 'utf8')).toBe('not for others\n');
    expect(statSync(join(dir, 'secret.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'empty'), 'utf8')).toBe('');
    expect(readlinkSync(join(dir, 'tool'))).toBe(join(dir, 'bin', 'tool'));
    expect(readdirSync(join(dir, 'bin')).sort()).toEqual(['other', 'tool']);

    const second = await apply();
    expect(second).toEqual({ changed: [], commands: 1, bytes: 0 });
  });

  it('sends a binary that compresses as gzip, installs exactly its bytes, and a re-run sends nothing', async () => {
    const content = Buffer.from('a Go binary compresses about threefold\n'.repeat(100_000));
    const localPath = join(sshd.dir, 'packed.bin');
    writeFileSync(localPath, content);
    const sha256 = createHash('sha256').update(content).digest('hex');
    const packedTool = join(dir, 'bin', 'packed');
    resources.push({ kind: 'file', path: packedTool, content: { localPath, sha256 }, mode: 0o755 });
    try {
      const first = await apply();
      expect(first.changed).toEqual([packedTool]);
      expect(first.bytes).toBeLessThan(content.length / 3);
      expect(readFileSync(packedTool).equals(content)).toBe(true);
      expect(readdirSync(join(dir, 'bin')).sort()).toEqual(['other', 'packed', 'tool']);
      expect(await apply()).toEqual({ changed: [], commands: 1, bytes: 0 });
    } finally {
      resources.pop();
      rmSync(packedTool, { force: true });
    }
  });

  it('re-hashes a binary whose mtime moved and leaves it alone when the content is the same', async () => {
    const past = new Date(Date.now() - 3_600_000);
    utimesSync(join(dir, 'bin', 'tool'), past, past);
    expect(await apply()).toEqual({ changed: [], commands: 1, bytes: 0 });
  });

  it('replaces only a binary whose content drifted, and only a file whose mode drifted', async () => {
    writeFileSync(join(dir, 'bin', 'tool'), 'tampered');
    const drifted = await apply();
    expect(drifted.changed).toEqual([join(dir, 'bin', 'tool')]);
    expect(drifted.bytes).toBe(binary.length);
    expect(readFileSync(join(dir, 'bin', 'tool')).equals(binary)).toBe(true);

    await conn.run(['chmod', '644', join(dir, 'secret.key')]);
    const loosened = await apply();
    expect(loosened.changed).toEqual([join(dir, 'secret.key')]);
    expect(statSync(join(dir, 'secret.key')).mode & 0o777).toBe(0o600);
  });

  it('staged copies left by a run cut off before its install are removed by the next apply that changes files', async () => {
    // What a lost connection leaves: a binary streamed (part of it) but never moved into place,
    // and a small file's here-document half written.
    const staged = await conn.stage(Buffer.from('half a binary'), join(dir, 'bin', 'tool'));
    writeFileSync(join(dir, '.secret.key.kubesmith-0123456789ab'), 'half');
    expect(readdirSync(join(dir, 'bin'))).toContain(staged.split('/').pop());
    writeFileSync(join(dir, 'bin', 'tool'), 'tampered');
    const next = await apply();
    expect(next.changed).toEqual([join(dir, 'bin', 'tool')]);
    expect(readdirSync(join(dir, 'bin')).sort()).toEqual(['other', 'tool']);
    expect(readdirSync(dir).filter((f) => f.includes('.kubesmith-'))).toEqual([]);
    expect(readFileSync(join(dir, 'bin', 'tool')).equals(binary)).toBe(true);
  });

  it('a guard that reads stdin cannot swallow the rest of the probe script', async () => {
    const results = await applyResources(
      conn,
      [
        { kind: 'command', title: 'greedy', argv: ['true'], unless: ['sh', '-c', 'cat >/dev/null; true'] },
        // Enough guards after it that the script is longer than what the shell reads ahead.
        ...Array.from(
          { length: 400 },
          (_, i): Resource => ({
            kind: 'command',
            title: `after it ${i}`,
            argv: ['false'],
            creates: join(dir, 'secret.key'),
          }),
        ),
      ],
      { dryRun: false },
    );
    expect(new Set(results.map((r) => r.status))).toEqual(new Set(['ok']));
  });
  it('a failing install line stops the install script (set -e alone ignores a failed && list)', async () => {
    const blocker = join(dir, 'not-a-dir');
    writeFileSync(blocker, 'a file\n');
    const after = join(dir, 'after-the-failure');
    await expect(
      applyResources(
        conn,
        [
          { kind: 'symlink', path: join(blocker, 'link'), target: '/etc/hostname' },
          { kind: 'file', path: after, content: 'must not be written\n' },
        ],
        { dryRun: false },
      ),
    ).rejects.toThrow(/exited 1/);
    expect(existsSync(after)).toBe(false);
  });
});

describe('leftoversShell', () => {
  it('removes the staged names of every file beside it (not its siblings), and the record temp for binaries', () => {
    expect(
      leftoversShell([
        { kind: 'file', path: '/opt/kube/bin/containerd', content: { localPath: '/x', sha256: 'a' } },
        { kind: 'file', path: "/etc/it's here/a b.conf", content: 'x' },
        { kind: 'directory', path: '/etc/x' },
      ]),
    ).toBe(
      "rm -f /opt/kube/bin/.containerd.kubesmith-* '/etc/it'\"'\"'s here/.a b.conf.kubesmith-'* /var/lib/kubesmith/checksums.tmp.*",
    );
    expect(leftoversShell([{ kind: 'file', path: '/etc/a', content: 'x' }])).toBe(
      'rm -f /etc/.a.kubesmith-*',
    );
    expect(leftoversShell([{ kind: 'directory', path: '/etc/a' }])).toBeUndefined();
  });
});
