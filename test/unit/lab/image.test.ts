import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { layerFromDirectory, writeImageArchive } from '../../../src/lab/build/image.js';

const work = mkdtempSync(join(tmpdir(), 'ks-image-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function buildOnce(name: string) {
  const root = join(work, `${name}-root`);
  mkdirSync(join(root, 'bin'), { recursive: true });
  writeFileSync(join(root, 'bin', 'hello'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
  const layer = await layerFromDirectory(root, join(work, `${name}-layer.tar`));
  return writeImageArchive(
    'registry.example/test/hello:1.0',
    [layer],
    { entrypoint: ['/bin/hello'], user: '65535:65535' },
    join(work, `${name}.tar`),
  );
}

describe('docker-archive images without a daemon', () => {
  it('writes a manifest, a config with platform, entrypoint and user, and layers by diff id', async () => {
    const image = await buildOnce('a');
    const out = join(work, 'unpacked');
    mkdirSync(out);
    await execa('tar', ['-xf', image.file, '-C', out]);
    const [manifest] = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.RepoTags).toEqual(['registry.example/test/hello:1.0']);
    const configText = readFileSync(join(out, manifest.Config), 'utf8');
    expect(`sha256:${createHash('sha256').update(configText).digest('hex')}`).toBe(image.configDigest);
    const config = JSON.parse(configText);
    expect(config).toMatchObject({ os: 'linux', architecture: 'amd64' });
    expect(config.config).toMatchObject({ Entrypoint: ['/bin/hello'], User: '65535:65535' });
    const layer = readFileSync(join(out, manifest.Layers[0]));
    expect(config.rootfs.diff_ids).toEqual([`sha256:${createHash('sha256').update(layer).digest('hex')}`]);
  });

  it('is reproducible: the same inputs give the same archive', async () => {
    const first = await buildOnce('b');
    const second = await buildOnce('c');
    expect(second.sha256).toBe(first.sha256);
    expect(second.configDigest).toBe(first.configDigest);
  });
});
