import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import { cacheDir, resolveLocalPath } from '../home.js';
import type { Inventory } from '../inventory/schema.js';
import { type BundleManifest, readBundleManifest, sha256File } from './bundle.js';
import { withCacheLock } from './cache-lock.js';
import { type Arch, type CatalogEntry, catalogFor, KUBERNETES_BINARIES, mirrored } from './catalog.js';
import { ArtifactError, downloadVerified, type Expected } from './download.js';

/** A file a host needs, available on the deploy machine. */
export interface LocalArtifactFile {
  /** Path inside a bundle, e.g. bin/etcd. */
  path: string;
  localPath: string;
  sha256: string;
  artifact: string;
  version: string;
}

export interface ResolveOptions {
  arch: Arch;
  cacheDir: string;
  signal?: AbortSignal;
  say?: (line: string) => void;
  /** How long to wait for another kubesmith filling the same cache entry (default 15 min). */
  lockWaitMs?: number;
}

/** sha256 of local files by path, size and mtime, kept across runs in the cache dir so bundles are not rehashed. */
let index: Map<string, string> | undefined;

function indexFile(): string {
  return join(cacheDir(), 'sha256-index.json');
}

export async function checkedSha(file: string): Promise<string> {
  index ??= new Map(
    Object.entries(
      await readFile(indexFile(), 'utf8').then(
        (t) => JSON.parse(t) as Record<string, string>,
        () => ({}),
      ),
    ),
  );
  const s = await stat(file);
  const key = `${file}:${s.size}:${Math.trunc(s.mtimeMs)}`;
  let hash = index.get(key);
  if (!hash) {
    hash = await sha256File(file);
    index.set(key, hash);
    await mkdir(cacheDir(), { recursive: true });
    await writeFile(`${indexFile()}.${process.pid}`, JSON.stringify(Object.fromEntries(index)));
    await rename(`${indexFile()}.${process.pid}`, indexFile());
  }
  return hash;
}

async function fromBundle(
  dir: string,
  kubernetesVersion: string,
  paths: readonly string[],
  optional: readonly string[],
): Promise<Map<string, LocalArtifactFile>> {
  let manifest: BundleManifest;
  try {
    manifest = await readBundleManifest(dir);
  } catch (cause) {
    throw new ArtifactError(
      `artifacts.dir ${dir} has no valid manifest.json (${(cause as Error).message.split('\n')[0]}); rebuild the bundle`,
      [],
      { cause },
    );
  }
  const out = new Map<string, LocalArtifactFile>();
  for (const path of [...paths, ...optional]) {
    const artifact = manifest.artifacts.find((a) => a.files.some((f) => f.path === path));
    const file = artifact?.files.find((f) => f.path === path);
    if (!artifact || !file) {
      if (optional.includes(path)) continue;
      const absent = manifest.absent.find((a) => path.endsWith(`/${a.name}`));
      throw new ArtifactError(
        `the bundle ${dir} has no ${path}${absent ? ` (${absent.reason})` : ''}; add it to the bundle, or use artifacts.source: download`,
      );
    }
    const binary = path.split('/').pop() ?? '';
    if (
      (KUBERNETES_BINARIES as readonly string[]).includes(binary) &&
      artifact.version.replace(/^v/, '') !== kubernetesVersion
    )
      throw new ArtifactError(
        `the bundle ${dir} holds Kubernetes ${artifact.version} (${path}), but the inventory asks for ${kubernetesVersion}: point artifacts.dir at a ${kubernetesVersion} bundle (kubesmith download --bundle), or set cluster.kubernetesVersion to ${artifact.version.replace(/^v/, '')}`,
      );
    const localPath = join(dir, file.path);
    if (!existsSync(localPath))
      throw new ArtifactError(
        `${localPath} is listed in ${dir}/manifest.json but missing; rebuild the bundle`,
      );
    const sha = await checkedSha(localPath);
    if (sha !== file.sha256)
      throw new ArtifactError(
        `${localPath} is corrupt: sha256 ${sha}, manifest says ${file.sha256}; rebuild the bundle`,
      );
    out.set(path, { path, localPath, sha256: sha, artifact: artifact.name, version: artifact.version });
  }
  return out;
}

/** What a cache entry's files.json records: the archive as verified, and the files taken from it. */
interface CacheIndex {
  format: 2;
  archiveSha256: string;
  files: LocalArtifactFile[];
}

async function readCacheIndex(file: string): Promise<CacheIndex | undefined> {
  const parsed = await readFile(file, 'utf8').then(
    (t) => JSON.parse(t) as unknown,
    () => undefined,
  );
  // Entries written before format 2 may have been verified against a mirror's checksum file: verify again.
  const index = parsed as Partial<CacheIndex> | undefined;
  return index?.format === 2 && typeof index.archiveSha256 === 'string' && Array.isArray(index.files)
    ? (index as CacheIndex)
    : undefined;
}

/**
 * Whether a cache entry can be used as it is: its archive and every file still have the sha256
 * recorded when they were verified (re-hashed when size or mtime changed), and a pin, if there
 * is one, names that archive.
 */
async function cacheUsable(index: CacheIndex, archive: string, pinned: string | undefined): Promise<boolean> {
  if (pinned !== undefined && index.archiveSha256 !== pinned) return false;
  const sameSha = async (path: string, sha: string) =>
    existsSync(path) && (await checkedSha(path).catch(() => undefined)) === sha;
  if (!(await sameSha(archive, index.archiveSha256))) return false;
  for (const f of index.files) if (!(await sameSha(f.localPath, f.sha256))) return false;
  return true;
}

/** The sha256 a download must have: a pin, else the checksum file at the official origin (never a mirror). */
export function expectedFor(
  entry: CatalogEntry,
  artifacts: Pick<Inventory['artifacts'], 'mirrors' | 'sha256'>,
): Expected {
  const pinned = artifacts.sha256[basename(entry.url)] ?? entry.checksum.sha256;
  if (pinned !== undefined) return { sha256: pinned };
  const mirrorsUsed = mirrored(entry.url, artifacts.mirrors) !== entry.url;
  return {
    checksumUrl: entry.checksum.url,
    checksumEntry: entry.checksum.entry,
    checksumHint: mirrorsUsed
      ? `with artifacts.mirrors, checksum files still come from the official origin only: let this machine reach it, or pin ${basename(entry.url)} in artifacts.sha256`
      : undefined,
  };
}

/** Downloads (or reuses from the cache) one catalog entry and unpacks it; returns its files by bundle path. */
export async function fetchEntry(
  entry: CatalogEntry,
  artifacts: Pick<Inventory['artifacts'], 'mirrors' | 'sha256'>,
  options: ResolveOptions,
): Promise<LocalArtifactFile[]> {
  const dir = join(options.cacheDir, entry.name, entry.version, options.arch);
  await mkdir(dir, { recursive: true });
  return withCacheLock(
    dir,
    `${entry.name} ${entry.version} (${options.arch})`,
    () => fetchEntryLocked(entry, artifacts, options, dir),
    { signal: options.signal, say: options.say, waitMs: options.lockWaitMs },
  );
}

async function fetchEntryLocked(
  entry: CatalogEntry,
  artifacts: Pick<Inventory['artifacts'], 'mirrors' | 'sha256'>,
  options: ResolveOptions,
  dir: string,
): Promise<LocalArtifactFile[]> {
  const archive = join(dir, basename(entry.url));
  const indexPath = join(dir, 'files.json');
  const expected = expectedFor(entry, artifacts);
  const cached = await readCacheIndex(indexPath);
  if (cached && (await cacheUsable(cached, archive, expected.sha256))) return cached.files;
  await rm(indexPath, { force: true });
  options.say?.(`downloading ${entry.name} ${entry.version} (${options.arch})`);
  const download = await downloadVerified(mirrored(entry.url, artifacts.mirrors), archive, expected, {
    signal: options.signal,
  });
  const files: LocalArtifactFile[] = [];
  if (entry.archive === 'tgz') {
    const unpacked = join(dir, 'unpacked');
    await rm(unpacked, { recursive: true, force: true });
    await mkdir(unpacked, { recursive: true });
    await execa('tar', ['-xzf', download.path, '-C', unpacked]);
    for (const [inside, path] of Object.entries(entry.files)) {
      const localPath = join(unpacked, inside);
      if (!existsSync(localPath))
        throw new ArtifactError(
          `${entry.url} has no ${inside}; the catalog is out of date for ${entry.version}`,
        );
      files.push({
        path,
        localPath,
        sha256: await checkedSha(localPath),
        artifact: entry.name,
        version: entry.version,
      });
    }
  } else {
    const [path = `bin/${entry.name}`] = Object.values(entry.files);
    files.push({
      path,
      localPath: download.path,
      sha256: download.sha256,
      artifact: entry.name,
      version: entry.version,
    });
  }
  const index: CacheIndex = { format: 2, archiveSha256: download.sha256, files };
  await writeFile(`${indexPath}.tmp`, JSON.stringify(index));
  await rename(`${indexPath}.tmp`, indexPath);
  return files;
}

/**
 * Finds the local files for bundle paths (bin/etcd, ...) from the inventory's artifact
 * source: the bundle directory (each file checked against its manifest sha256) or the
 * download cache (fetched and verified when missing). Hosts never download.
 */
export async function resolveArtifactFiles(
  inventory: Inventory,
  inventoryFile: string,
  paths: readonly string[],
  options: ResolveOptions & { optional?: readonly string[] },
): Promise<Map<string, LocalArtifactFile>> {
  const { artifacts, cluster } = inventory;
  const optional = options.optional ?? [];
  if (artifacts.source === 'dir')
    return fromBundle(
      resolveLocalPath(artifacts.dir ?? '.', inventoryFile),
      cluster.kubernetesVersion,
      paths,
      optional,
    );
  const catalog = catalogFor(cluster.kubernetesVersion, options.arch);
  const entries = catalog.filter((e) =>
    Object.values(e.files).some((p) => paths.includes(p) || optional.includes(p)),
  );
  const out = new Map<string, LocalArtifactFile>();
  for (const entry of entries) {
    for (const file of await fetchEntry(entry, artifacts, options)) out.set(file.path, file);
  }
  const missing = paths.filter((p) => !out.has(p));
  if (missing.length)
    throw new ArtifactError(`the artifact catalog has nothing that provides ${missing.join(', ')}`);
  return out;
}
