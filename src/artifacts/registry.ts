import { createHash } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type ImageArchive, writeDockerArchive } from '../lab/build/image.js';
import type { Arch } from './catalog.js';
import { ArtifactError } from './download.js';
import { checkedSha } from './resolve.js';

/**
 * A small OCI distribution client: pulls one image for one platform from a registry,
 * anonymously, every blob verified against its digest, and writes it as a docker-archive
 * (what `ctr images import` reads). Plain http is used for loopback registries only
 * (127.0.0.0/8, localhost): every other registry is https.
 */

export class RegistryError extends ArtifactError {}

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;

const MANIFEST_ACCEPT = Object.values(MEDIA_TYPES).join(', ');

/** Layer media types a docker-archive can carry: tar, gzip or zstd (containerd detects which). */
const LAYER_TYPES = new Set([
  'application/vnd.oci.image.layer.v1.tar',
  'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd',
  'application/vnd.docker.image.rootfs.diff.tar',
  'application/vnd.docker.image.rootfs.diff.tar.gzip',
]);

export interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  platform?: { os?: string; architecture?: string; variant?: string };
}

interface ImageManifest {
  schemaVersion: number;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

interface ImageIndex {
  schemaVersion: number;
  mediaType?: string;
  manifests: Descriptor[];
}

/** What to pull: registry host[:port], repository, tag; reference is how it is named in the bundle. */
export interface ImageSource {
  reference: string;
  registry: string;
  repository: string;
  tag: string;
}

export interface PulledImage {
  reference: string;
  /** The config blob, byte for byte: its sha256 is the image id containerd reports. */
  config: Buffer;
  configDigest: string;
  /** Verified layer blobs in the cache, bottom first. */
  layers: { file: string; digest: string }[];
}

export interface PullOptions {
  arch: Arch;
  /** Verified blobs are kept in <cacheDir>/images/blobs/sha256/. */
  cacheDir: string;
  signal?: AbortSignal;
  say?: (line: string) => void;
}

export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.replace(/:\d+$/, '');
  return host === 'localhost' || /^127(\.\d{1,3}){3}$/.test(host);
}

export function registryBaseUrl(registry: string): string {
  return `${isLoopbackRegistry(registry) ? 'http' : 'https'}://${registry}`;
}

const HEX_DIGEST = /^sha256:([0-9a-f]{64})$/;

function digestHex(digest: string, what: string): string {
  const hex = HEX_DIGEST.exec(digest)?.[1];
  if (!hex) throw new RegistryError(`${what} has digest ${digest}: only sha256 digests are supported`);
  return hex;
}

function parseJson<T>(bytes: Buffer, what: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch {
    throw new RegistryError(`${what} is not valid JSON`);
  }
}

const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** key="value" pairs of a WWW-Authenticate challenge (values may hold commas). */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const scheme = header.trim().split(/\s+/)[0] ?? '';
  const params: Record<string, string> = {};
  for (const match of header.slice(scheme.length).matchAll(/([a-zA-Z_]+)="([^"]*)"/g))
    params[match[1]!.toLowerCase()] = match[2]!;
  return { scheme: scheme.toLowerCase(), params };
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

/**
 * One registry, one repository. Redirects are followed by hand: an anonymous bearer token is
 * fetched for the origin that challenges (registry.k8s.io redirects to another registry) and
 * sent to that origin only, never to a storage backend a blob redirects to.
 */
export class RegistryClient {
  private readonly tokens = new Map<string, string>();
  private readonly base: string;

  constructor(
    readonly registry: string,
    readonly repository: string,
    private readonly signal?: AbortSignal,
  ) {
    this.base = registryBaseUrl(registry);
  }

  private async fetchOnce(url: URL, accept: string | undefined): Promise<Response> {
    const headers: Record<string, string> = {};
    if (accept) headers.Accept = accept;
    const token = this.tokens.get(url.origin);
    if (token) headers.Authorization = `Bearer ${token}`;
    return fetch(url, { headers, signal: this.signal, redirect: 'manual' }).catch((cause: Error) => {
      throw new RegistryError(
        `cannot reach ${url.origin}${url.pathname}: ${cause.cause instanceof Error ? cause.cause.message : cause.message}; check the network or cluster.imageRegistry`,
        [],
        { cause },
      );
    });
  }

  private async send(start: string, accept?: string): Promise<Response> {
    let url = new URL(start);
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      let response = await this.fetchOnce(url, accept);
      if (response.status === 401 && !this.tokens.has(url.origin)) {
        await response.body?.cancel();
        this.tokens.set(
          url.origin,
          await this.anonymousToken(response.headers.get('www-authenticate') ?? ''),
        );
        response = await this.fetchOnce(url, accept);
      }
      const location = response.headers.get('location');
      if (!REDIRECTS.has(response.status) || !location) return response;
      await response.body?.cancel();
      const next = new URL(location, url);
      if (next.protocol !== 'https:' && !(next.protocol === 'http:' && isLoopbackRegistry(next.host)))
        throw new RegistryError(`${this.registry} redirects to ${next.protocol}//${next.host}: https only`);
      url = next;
    }
    throw new RegistryError(`${this.registry} redirects more than ${MAX_REDIRECTS} times`);
  }

  /** GET a path under /v2/<repository>/, authenticating on a bearer challenge. */
  async get(path: string, accept?: string): Promise<Response> {
    const response = await this.send(`${this.base}/v2/${this.repository}/${path}`, accept);
    if (!response.ok) {
      await response.body?.cancel();
      const why =
        response.status === 404
          ? 'not found'
          : response.status === 401 || response.status === 403
            ? 'access denied to an anonymous pull'
            : `HTTP ${response.status}`;
      throw new RegistryError(
        `${this.registry}/${this.repository}: ${path.split('/')[0]} ${path.split('/')[1]}: ${why}; check cluster.imageRegistry (a mirror must serve this image)`,
      );
    }
    return response;
  }

  private async anonymousToken(header: string): Promise<string> {
    const { scheme, params } = parseChallenge(header);
    if (scheme !== 'bearer' || !params.realm)
      throw new RegistryError(
        `${this.registry} asks for ${scheme || 'unknown'} credentials; kubesmith pulls images anonymously: use a registry (cluster.imageRegistry) that allows anonymous pulls`,
      );
    let realm: URL;
    try {
      realm = new URL(params.realm);
    } catch {
      throw new RegistryError(`${this.registry} names a token service that is not a URL`);
    }
    if (realm.protocol !== 'https:' && !(realm.protocol === 'http:' && isLoopbackRegistry(realm.host)))
      throw new RegistryError(`${this.registry} names a token service over ${realm.protocol}: https only`);
    if (params.service) realm.searchParams.set('service', params.service);
    realm.searchParams.set('scope', params.scope ?? `repository:${this.repository}:pull`);
    const response = await fetch(realm, { signal: this.signal }).catch((cause: Error) => {
      throw new RegistryError(`cannot reach the token service of ${this.registry}: ${cause.message}`, [], {
        cause,
      });
    });
    if (!response.ok) {
      await response.body?.cancel();
      throw new RegistryError(
        `the token service of ${this.registry} refused an anonymous token (HTTP ${response.status})`,
      );
    }
    const body = (await response.json().catch(() => ({}))) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new RegistryError(`the token service of ${this.registry} answered without a token`);
    return token;
  }

  /** A manifest or index, its bytes checked against `digest` when asked by digest. */
  async manifest(reference: string): Promise<{ bytes: Buffer; digest: string; mediaType: string }> {
    const response = await this.get(`manifests/${reference}`, MANIFEST_ACCEPT);
    const bytes = Buffer.from(await response.arrayBuffer());
    const digest = sha256(bytes);
    const claimed = HEX_DIGEST.test(reference) ? reference : response.headers.get('docker-content-digest');
    if (claimed && claimed !== digest)
      throw new RegistryError(
        `${this.registry}/${this.repository}:${reference}: the manifest has digest ${digest}, not ${claimed}; refused`,
      );
    const mediaType =
      parseJson<{ mediaType?: string }>(
        bytes,
        `the manifest of ${this.registry}/${this.repository}:${reference}`,
      ).mediaType ??
      response.headers.get('content-type') ??
      '';
    return { bytes, digest, mediaType: mediaType.split(';')[0]!.trim() };
  }

  /** A small blob in memory, verified. */
  async blobBytes(descriptor: Descriptor): Promise<Buffer> {
    digestHex(descriptor.digest, 'a blob');
    const bytes = Buffer.from(await (await this.get(`blobs/${descriptor.digest}`)).arrayBuffer());
    const got = sha256(bytes);
    if (got !== descriptor.digest || bytes.length !== descriptor.size)
      throw new RegistryError(
        `${this.registry}/${this.repository}: blob ${descriptor.digest} arrived as ${got} (${bytes.length} bytes, ${descriptor.size} expected); refused`,
      );
    return bytes;
  }

  /** A blob streamed to `dest`, verified before it is renamed into place; nothing is left on a mismatch. */
  async blobToFile(descriptor: Descriptor, dest: string): Promise<void> {
    digestHex(descriptor.digest, 'a layer');
    const response = await this.get(`blobs/${descriptor.digest}`);
    if (!response.body) throw new RegistryError(`${this.registry}: blob ${descriptor.digest} has no body`);
    const part = `${dest}.${process.pid}.part`;
    const hash = createHash('sha256');
    let size = 0;
    const hasher = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    try {
      await pipeline(
        Readable.fromWeb(response.body as import('node:stream/web').ReadableStream),
        hasher,
        createWriteStream(part),
      );
      const got = `sha256:${hash.digest('hex')}`;
      if (got !== descriptor.digest || size !== descriptor.size)
        throw new RegistryError(
          `${this.registry}/${this.repository}: layer ${descriptor.digest} arrived as ${got} (${size} bytes, ${descriptor.size} expected); refused, nothing kept`,
        );
      await rename(part, dest);
    } finally {
      await rm(part, { force: true });
    }
  }
}

/** The entry of an index for linux/<arch> (arm64: variant v8 or none). */
export function pickPlatform(index: ImageIndex, arch: Arch): Descriptor | undefined {
  return index.manifests.find(
    (m) =>
      m.platform?.os === 'linux' &&
      m.platform.architecture === arch &&
      (arch !== 'arm64' || !m.platform.variant || m.platform.variant === 'v8'),
  );
}

/** Resolves a tag to the image manifest of linux/<arch>, through an index when there is one. */
async function platformManifest(client: RegistryClient, tag: string, arch: Arch): Promise<ImageManifest> {
  const name = `${client.registry}/${client.repository}:${tag}`;
  let found = await client.manifest(tag);
  if (found.mediaType === MEDIA_TYPES.ociIndex || found.mediaType === MEDIA_TYPES.dockerList) {
    const entry = pickPlatform(parseJson<ImageIndex>(found.bytes, `the index of ${name}`), arch);
    if (!entry) throw new RegistryError(`${name} has no linux/${arch} image`);
    digestHex(entry.digest, `${name} (linux/${arch})`);
    found = await client.manifest(entry.digest);
  }
  if (found.mediaType !== MEDIA_TYPES.ociManifest && found.mediaType !== MEDIA_TYPES.dockerManifest)
    throw new RegistryError(
      `${name} is a ${found.mediaType || 'manifest of unknown type'}: not an image kubesmith can save`,
    );
  const manifest = parseJson<ImageManifest>(found.bytes, `the manifest of ${name}`);
  const odd = manifest.layers.find((l) => !LAYER_TYPES.has(l.mediaType ?? ''));
  if (odd) throw new RegistryError(`${name} has a layer of type ${odd.mediaType}: not supported`);
  return manifest;
}

/** Pulls an image for linux/<arch>: manifest, config and layers, each checked against its digest. */
export async function pullImage(image: ImageSource, options: PullOptions): Promise<PulledImage> {
  const client = new RegistryClient(image.registry, image.repository, options.signal);
  const manifest = await platformManifest(client, image.tag, options.arch);
  const config = await client.blobBytes(manifest.config);
  const parsed = parseJson<{ os?: string; architecture?: string; rootfs?: { diff_ids?: string[] } }>(
    config,
    `the config of ${image.reference}`,
  );
  if (parsed.os !== 'linux' || parsed.architecture !== options.arch)
    throw new RegistryError(
      `${image.reference} is for ${parsed.os}/${parsed.architecture}, not linux/${options.arch}`,
    );
  if ((parsed.rootfs?.diff_ids ?? []).length !== manifest.layers.length)
    throw new RegistryError(`${image.reference}: its config and manifest disagree on the number of layers`);
  const blobs = join(options.cacheDir, 'images', 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const layers: PulledImage['layers'] = [];
  for (const layer of manifest.layers) {
    const hex = digestHex(layer.digest, `a layer of ${image.reference}`);
    const file = join(blobs, hex);
    if (!(existsSync(file) && (await checkedSha(file).catch(() => undefined)) === hex)) {
      options.say?.(`pulling ${image.reference} (linux/${options.arch}) layer ${layer.digest.slice(0, 19)}`);
      await client.blobToFile(layer, file);
    }
    layers.push({ file, digest: layer.digest });
  }
  return { reference: image.reference, config, configDigest: manifest.config.digest, layers };
}

/** Writes a pulled image as a docker-archive at `out` (compressed layers stay compressed). */
export function writePulledImage(image: PulledImage, out: string): Promise<ImageArchive> {
  return writeDockerArchive(
    image.reference,
    image.config,
    image.layers.map((l) => ({ file: l.file, id: l.digest.slice('sha256:'.length) })),
    out,
  );
}
