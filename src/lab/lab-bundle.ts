import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, link, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type BundleManifest, readBundleManifest } from '../artifacts/bundle.js';
import { catalogFor, KUBERNETES_BINARIES } from '../artifacts/catalog.js';
import { fetchEntry } from '../artifacts/resolve.js';
import { buildRecipe, localGoVersion, moduleDownload } from './build/go.js';
import { buildLabImages } from './build/images.js';
import { COMPONENT_RECIPES, type GoRecipe, kubernetesRecipe, LAB_IMAGES } from './build/recipes.js';
import { ensureDebianBundle } from './debian-bundle.js';
import { ensureBuildTools } from './host-tools.js';
import { bundleDir } from './state.js';

export interface ComponentOrigin {
  component: string;
  version: string;
  source: 'download' | 'built' | 'debian';
  seconds: number;
  cached: boolean;
}

export interface LabBundle {
  kubernetesVersion: string;
  dir: string;
  built: boolean;
  origins: ComponentOrigin[];
}

/** Catalog entries that stand for a recipe's binaries when the official downloads answer. */
const CATALOG_NAMES: Record<string, string[]> = {
  etcd: ['etcd'],
  containerd: ['containerd'],
  runc: ['runc'],
  'cni-plugins': ['cni-plugins'],
  crictl: ['crictl'],
  kubernetes: [...KUBERNETES_BINARIES],
};

/** Changes when anything that goes into the bundle changes: then it is assembled again. */
function bundleKey(kubernetesVersion: string): string {
  return createHash('sha256')
    .update(
      JSON.stringify({
        kubernetesVersion,
        COMPONENT_RECIPES,
        kubernetes: kubernetesRecipe(kubernetesVersion),
        LAB_IMAGES,
        format: 6,
      }),
    )
    .digest('hex')
    .slice(0, 16);
}

async function place(from: string, to: string): Promise<void> {
  await mkdir(join(to, '..'), { recursive: true });
  await rm(to, { force: true });
  await link(from, to).catch(() => copyFile(from, to));
}

type Artifact = BundleManifest['artifacts'][number];

interface Downloaded {
  artifact: Artifact;
  localPaths: string[];
}

/** The official release of a recipe's component, when it can be reached; undefined otherwise. */
async function tryDownload(
  recipe: GoRecipe,
  kubernetesVersion: string,
  cacheDir: string,
): Promise<Downloaded[] | undefined> {
  const names = CATALOG_NAMES[recipe.component];
  if (!names) return undefined;
  const entries = catalogFor(kubernetesVersion, 'amd64').filter((e) => names.includes(e.name));
  const out: Downloaded[] = [];
  try {
    for (const entry of entries) {
      const files = await fetchEntry(entry, { mirrors: {}, sha256: {} }, { arch: 'amd64', cacheDir });
      const sized = await Promise.all(
        files.map(async (f) => ({ path: f.path, sha256: f.sha256, size: (await stat(f.localPath)).size })),
      );
      out.push({
        artifact: {
          name: entry.name,
          version: entry.version,
          origin: entry.url,
          source: 'download',
          files: sized,
        },
        localPaths: files.map((f) => f.localPath),
      });
    }
    return out;
  } catch {
    return undefined;
  }
}

/**
 * The lab's artifact bundle for one Kubernetes version: each component from its official
 * release when reachable, else built from its Go module; with no Go toolchain at all,
 * Debian's packages (Kubernetes then absent). Assembled once; later calls reuse it.
 */
export async function ensureLabBundle(
  cacheDir: string,
  kubernetesVersion: string,
  say: (line: string) => void,
): Promise<LabBundle> {
  const goVersion = await localGoVersion();
  if (!goVersion) {
    say('no Go toolchain here: the lab bundle comes from Debian packages, without Kubernetes');
    const debian = await ensureDebianBundle(join(cacheDir, 'lab-bundle-bookworm'), say);
    return { ...debian, kubernetesVersion, origins: [] };
  }
  const dir = bundleDir(join(cacheDir, '..'), kubernetesVersion);
  const keyFile = join(dir, '.key');
  if (
    existsSync(join(dir, 'manifest.json')) &&
    (await readFile(keyFile, 'utf8').catch(() => '')) === bundleKey(kubernetesVersion)
  )
    return { dir, kubernetesVersion, built: false, origins: [] };

  await ensureBuildTools(say);
  const buildRoot = join(cacheDir, 'lab-build');
  const downloads = join(cacheDir, 'downloads');
  const staging = `${dir}.building`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  const origins: ComponentOrigin[] = [];
  const artifacts: Artifact[] = [];
  const imageBinaries = new Map<string, string>();
  let unreachableSaid = false;
  for (const recipe of [...COMPONENT_RECIPES, kubernetesRecipe(kubernetesVersion)]) {
    const started = Date.now();
    const downloaded = await tryDownload(recipe, kubernetesVersion, downloads);
    let use = recipe;
    if (downloaded) {
      for (const { artifact, localPaths } of downloaded) {
        for (const [i, file] of artifact.files.entries())
          await place(localPaths[i]!, join(staging, file.path));
        artifacts.push(artifact);
      }
      origins.push({
        component: recipe.component,
        version: downloaded[0]!.artifact.version,
        source: 'download',
        seconds: (Date.now() - started) / 1000,
        cached: false,
      });
      if (recipe.component !== 'kubernetes') continue;
      use = { ...recipe, packages: { 'k8s.io/kubernetes/test/images/agnhost': 'image-bin/agnhost' } };
    } else if (!unreachableSaid && CATALOG_NAMES[recipe.component]) {
      say(`official release downloads cannot be reached: building from the Go modules with ${goVersion}`);
      unreachableSaid = true;
    }
    say(`${recipe.component} ${recipe.version}: building from ${recipe.module}@${recipe.moduleVersion}`);
    const built = await buildRecipe(use, buildRoot);
    const binaries = built.files.filter((f) => !f.path.startsWith('image-bin/'));
    for (const file of built.files)
      if (file.path.startsWith('image-bin/'))
        imageBinaries.set(file.path.slice('image-bin/'.length), file.localPath);
    for (const file of binaries) await place(file.localPath, join(staging, file.path));
    if (binaries.length)
      artifacts.push({
        name: recipe.component,
        version: recipe.version,
        origin: `go:${recipe.module}@${recipe.moduleVersion}`,
        source: 'built',
        goVersion: built.goVersion,
        files: binaries.map(({ path, sha256, size }) => ({ path, sha256, size })),
      });
    if (!downloaded)
      origins.push({
        component: recipe.component,
        version: recipe.version,
        source: 'built',
        seconds: built.seconds,
        cached: !built.built,
      });
  }
  const started = Date.now();
  say(
    `images for Kubernetes ${kubernetesVersion}: assembling pause, agnhost, busybox and jessie-dnsutils (tags from its e2e suite), ${Object.values(
      LAB_IMAGES,
    )
      .map((i) => `${i.name}:${i.tag}`)
      .join(', ')}`,
  );
  const source = await moduleDownload('k8s.io/kubernetes', `v${kubernetesVersion}`, buildRoot);
  const images = await buildLabImages(
    { kubernetesSource: source.dir!, binaries: imageBinaries },
    join(buildRoot, `images-${kubernetesVersion}`),
  );
  const manifestImages: BundleManifest['images'] = [];
  for (const image of images) {
    const path = `images/${image.file.split('/').pop()}`;
    await place(image.file, join(staging, path));
    manifestImages.push({
      name: image.name,
      path,
      sha256: image.sha256,
      size: image.size,
      configDigest: image.configDigest,
      source: 'built',
    });
  }
  origins.push({
    component: `images (${kubernetesVersion})`,
    version: images.length.toString(),
    source: 'built',
    seconds: (Date.now() - started) / 1000,
    cached: false,
  });
  const manifest: BundleManifest = {
    format: 1,
    createdAt: new Date().toISOString(),
    source: `kubesmith lab: Kubernetes ${kubernetesVersion}`,
    artifacts,
    absent: [],
    images: manifestImages,
  };
  await writeFile(join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  await writeFile(join(staging, '.key'), bundleKey(kubernetesVersion));
  await rm(dir, { recursive: true, force: true });
  await rename(staging, dir);
  await readBundleManifest(dir);
  return { dir, kubernetesVersion, built: true, origins };
}

/** One line per component and version: bundles of several Kubernetes versions share the rest. */
export function uniqueOrigins(origins: ComponentOrigin[]): ComponentOrigin[] {
  const seen = new Set<string>();
  return origins.filter((o) => {
    const key = `${o.component} ${o.version}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
