import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

/**
 * A real OCI registry for tests: go-containerregistry's `crane registry serve` (in memory),
 * built once with the local Go toolchain, images pushed with crane itself. An optional
 * proxy in front of it asks for an anonymous bearer token and can flip a byte of a blob.
 */
export const CRANE_MODULE = 'github.com/google/go-containerregistry/cmd/crane@v0.22.1';

/** Why the real-registry tests cannot run here (no Go), or undefined. */
export function goMissing(): string | undefined {
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  return go.status === 0
    ? undefined
    : 'Go is not installed: it builds crane, the real registry these tests use';
}

const toolsDir = () => process.env.KUBESMITH_TEST_TOOLS ?? join(homedir(), '.cache', 'kubesmith-test-tools');

/** The crane binary, built into the tools cache on first use (atomically: test files run in parallel). */
export async function craneBinary(): Promise<string> {
  const dir = join(toolsDir(), 'crane-v0.22.1');
  const crane = join(dir, 'crane');
  if (existsSync(crane)) return crane;
  mkdirSync(dir, { recursive: true });
  const gobin = mkdtempSync(join(dir, 'build-'));
  try {
    await execa('go', ['install', CRANE_MODULE], {
      env: { GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod', GOBIN: gobin },
      cwd: gobin,
    });
    await rename(join(gobin, 'crane'), crane);
  } finally {
    rmSync(gobin, { recursive: true, force: true });
  }
  return crane;
}

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

export class CraneRegistry {
  private child: ChildProcess | undefined;
  host = '';

  constructor(readonly crane: string) {}

  async start(): Promise<void> {
    const port = await freePort();
    this.host = `127.0.0.1:${port}`;
    this.child = spawn(this.crane, ['registry', 'serve', '--address', this.host], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      const up = await fetch(`http://${this.host}/v2/`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`crane registry serve did not answer on ${this.host}`);
  }

  stop(): void {
    this.child?.kill();
  }

  async run(args: string[]): Promise<string> {
    return (await execa(this.crane, args)).stdout.trim();
  }

  /**
   * Pushes a one-layer image (gzip layer, entrypoint, platform) built from `files`, and returns
   * its manifest and config digests. `oci`: OCI media types, else Docker's.
   */
  async pushImage(
    work: string,
    ref: string,
    files: Record<string, string>,
    options: { arch: string; oci: boolean; entrypoint: string },
  ): Promise<{ manifestDigest: string; configDigest: string; layerDigest: string; diffId: string }> {
    const root = mkdtempSync(join(work, 'root-'));
    for (const [path, content] of Object.entries(files))
      writeFileSync(join(root, path), content, { mode: 0o755 });
    const layer = join(
      root,
      '..',
      `${createHash('sha256')
        .update(ref + options.arch)
        .digest('hex')}.tgz`,
    );
    await execa('tar', ['-czf', layer, '-C', root, '.']);
    const target = `${this.host}/${ref}`;
    await this.run(['append', ...(options.oci ? ['--oci-empty-base'] : []), '-f', layer, '-t', target]);
    await this.run([
      'mutate',
      target,
      '--set-platform',
      `linux/${options.arch}`,
      '--entrypoint',
      options.entrypoint,
      '-t',
      target,
    ]);
    const manifest = JSON.parse(await this.run(['manifest', target])) as {
      config: { digest: string };
      layers: { digest: string }[];
    };
    const config = JSON.parse(await this.run(['config', target])) as { rootfs: { diff_ids: string[] } };
    return {
      manifestDigest: await this.run(['digest', target]),
      configDigest: manifest.config.digest,
      layerDigest: manifest.layers[0]!.digest,
      diffId: config.rootfs.diff_ids[0]!,
    };
  }
}

/**
 * A proxy in front of the registry: with `requireToken`, /v2/ answers 401 with a bearer
 * challenge until a request carries the token its /token endpoint hands out; blobs whose
 * digest is in `corrupt` arrive with one byte flipped.
 */
export class RegistryProxy {
  static readonly TOKEN = 'anonymous-token-7f3a9c';
  readonly corrupt = new Set<string>();
  readonly tokenQueries: URLSearchParams[] = [];
  readonly seenAuthorization: string[] = [];
  requireToken = true;
  /** A Basic challenge instead of a bearer one. */
  basicOnly = false;
  /** Answer every /v2/ request with a 307 to this host (same path), as registry.k8s.io does. */
  redirectTo: string | undefined;
  host = '';
  private server: Server | undefined;

  constructor(private readonly upstream: () => string) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void this.handle(req.url ?? '/', req.headers, res);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.host = `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private async handle(
    url: string,
    headers: import('node:http').IncomingHttpHeaders,
    res: import('node:http').ServerResponse,
  ): Promise<void> {
    const parsed = new URL(url, `http://${this.host}`);
    if (parsed.pathname === '/token') {
      this.tokenQueries.push(parsed.searchParams);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ token: RegistryProxy.TOKEN }));
      return;
    }
    if (headers.authorization) this.seenAuthorization.push(headers.authorization);
    if (this.redirectTo) {
      res.statusCode = 307;
      res.setHeader('location', `http://${this.redirectTo}${url}`);
      res.end();
      return;
    }
    if (this.requireToken && headers.authorization !== `Bearer ${RegistryProxy.TOKEN}`) {
      const repo = /^\/v2\/(.+)\/(manifests|blobs)\//.exec(parsed.pathname)?.[1] ?? '';
      res.statusCode = 401;
      res.setHeader(
        'www-authenticate',
        this.basicOnly
          ? 'Basic realm="test"'
          : `Bearer realm="http://${this.host}/token",service="test-registry",scope="repository:${repo}:pull"`,
      );
      res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      return;
    }
    const upstream = await fetch(`http://${this.upstream()}${url}`, {
      headers: headers.accept ? { accept: String(headers.accept) } : {},
      redirect: 'manual',
    });
    let body = Buffer.from(await upstream.arrayBuffer());
    const digest = /\/blobs\/(sha256:[0-9a-f]{64})$/.exec(parsed.pathname)?.[1];
    if (digest && this.corrupt.has(digest) && body.length > 0) {
      body = Buffer.from(body);
      body[body.length - 1] = body[body.length - 1]! ^ 0xff;
    }
    res.statusCode = upstream.status;
    for (const name of ['content-type', 'docker-content-digest', 'location'])
      if (upstream.headers.get(name)) res.setHeader(name, upstream.headers.get(name)!);
    res.end(body);
  }

  stop(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
