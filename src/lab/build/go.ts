import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { z } from 'zod';
import { sha256File } from '../../artifacts/bundle.js';
import type { GoRecipe } from './recipes.js';
import { cachedBuild, imageBinPath } from './record.js';

export interface BuiltFile {
  path: string;
  localPath: string;
  sha256: string;
  size: number;
}

export interface BuiltComponent {
  component: string;
  version: string;
  goVersion: string;
  files: BuiltFile[];
  seconds: number;
  /** False when the component came from the build cache. */
  built: boolean;
}

export class BuildError extends Error {
  constructor(component: string, what: string, output: string) {
    const tail = output.trim().split('\n').slice(-20).join('\n');
    super(`building ${component} failed at ${what}:\n${tail}`);
    this.name = 'BuildError';
  }
}

/** The go command's environment: never fetch another toolchain, never stamp VCS data (module zips have none). */
export function goEnv(cgo = false): Record<string, string> {
  return { GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod -buildvcs=false', CGO_ENABLED: cgo ? '1' : '0' };
}

export async function localGoVersion(): Promise<string | undefined> {
  const result = await execa('go', ['env', 'GOVERSION'], { reject: false });
  return result.exitCode === 0 ? result.stdout.trim() : undefined;
}

const downloadInfo = z.object({ GoMod: z.string(), Info: z.string(), Dir: z.string().optional() });

/** `go mod download -json` of one module version: its go.mod, publication time and source dir. */
export async function moduleDownload(
  module: string,
  version: string,
  cwd: string,
): Promise<{ goMod: string; time: string; dir?: string }> {
  const result = await execa('go', ['mod', 'download', '-json', `${module}@${version}`], {
    cwd,
    env: goEnv(),
    reject: false,
  });
  if (result.exitCode !== 0)
    throw new BuildError(module, `go mod download ${version}`, result.stdout + result.stderr);
  const info = downloadInfo.parse(JSON.parse(result.stdout));
  const time = z.object({ Time: z.string() }).parse(JSON.parse(await readFile(info.Info, 'utf8'))).Time;
  return { goMod: await readFile(info.GoMod, 'utf8'), time, dir: info.Dir };
}

/** `require k8s.io/x v0.0.0` lines of a go.mod: the staging modules its own replaces point into the repo. */
export function stagingModules(goMod: string): string[] {
  return [...goMod.matchAll(/^\s*(?:require\s+)?(k8s\.io\/[\w.\-/]+)\s+v0\.0\.0\s*(?:\/\/.*)?$/gm)].map(
    (m) => m[1]!,
  );
}

/** The file name `go build -o dir/` gives a main package: its last element, or the one before a /vN suffix. */
export function defaultExecName(importPath: string): string {
  const parts = importPath.split('/');
  const last = parts.at(-1)!;
  return /^v\d+$/.test(last) && parts.length > 1 ? parts.at(-2)! : last;
}

export function wrapperGoMod(recipe: GoRecipe, replaces: string[]): string {
  const lines = [
    `module kubesmith.local/build/${recipe.component}`,
    '',
    'go 1.24.0',
    '',
    `require ${recipe.module} ${recipe.moduleVersion}`,
    '',
    ...replaces.map((r) => `replace ${r}`),
    '',
  ];
  return lines.join('\n');
}

/** The wrapper's `replace` lines: staging modules, sibling modules, then the recipe's own. */
export function wrapperReplaces(recipe: GoRecipe, originGoMod: string): string[] {
  const replaces: string[] = [];
  if (recipe.replaceStagingOf)
    for (const m of stagingModules(originGoMod))
      replaces.push(`${m} => ${m} ${recipe.replaceStagingOf.version}`);
  for (const m of recipe.pinSiblings ?? []) replaces.push(`${m} => ${m} ${recipe.moduleVersion}`);
  replaces.push(...(recipe.replaces ?? []));
  return replaces;
}

/** `go build -ldflags` of a recipe: stripped, its `-X` variables, then its extra linker flags. */
export function linkerFlags(recipe: GoRecipe, commitTime: string): string {
  const variables = Object.entries(recipe.variables ?? {}).map(
    ([name, value]) => `-X ${name}=${value.replace('{commitTime}', commitTime)}`,
  );
  return ['-s', '-w', ...variables, ...(recipe.ldflags ?? [])].join(' ');
}

export { imageBinPath } from './record.js';

async function go(recipe: GoRecipe, what: string, args: string[], cwd: string, log: string): Promise<void> {
  const result = await execa('go', args, {
    cwd,
    env: goEnv(recipe.cgo),
    reject: false,
    all: true,
  });
  await writeFile(log, `$ go ${args.join(' ')}\n${result.all ?? ''}\n`, { flag: 'a' });
  if (result.exitCode !== 0)
    throw new BuildError(`${recipe.component} ${recipe.version}`, what, result.all ?? '');
}

/**
 * Builds a recipe's binaries in a generated wrapper module (cached by component and
 * version under `root`; Go's own caches make a rebuild after a version change cheap).
 */
export async function buildRecipe(recipe: GoRecipe, root: string): Promise<BuiltComponent> {
  const dir = join(root, `${recipe.component}-${recipe.version}`);
  const record = join(dir, 'built.json');
  const cached = await cachedBuild(record, recipe);
  if (cached) return cached;
  const started = Date.now();
  const goVersion = (await localGoVersion()) ?? 'unknown';
  const moduleDir = join(dir, 'module');
  const out = join(dir, 'out');
  const log = join(dir, 'build.log');
  await rm(dir, { recursive: true, force: true });
  await mkdir(moduleDir, { recursive: true });
  await mkdir(out, { recursive: true });
  const origin = await moduleDownload(recipe.module, recipe.moduleVersion, moduleDir);
  await writeFile(join(moduleDir, 'go.mod'), wrapperGoMod(recipe, wrapperReplaces(recipe, origin.goMod)));
  // `go get` then `go build -mod=mod` resolve only what the binaries import; `go mod tidy`
  // would also want every test dependency, and some of those are not on the proxy.
  await go(recipe, 'go get', ['get', `${recipe.module}@${recipe.moduleVersion}`], moduleDir, log);
  const args = [
    'build',
    '-trimpath',
    ...(recipe.tags?.length ? ['-tags', recipe.tags.join(',')] : []),
    '-ldflags',
    linkerFlags(recipe, origin.time),
    '-o',
    `${out}/`,
    ...Object.keys(recipe.packages),
  ];
  await go(recipe, 'go build', args, moduleDir, log);
  const files: BuiltFile[] = [];
  const keep = async (pkg: string, produced: string, path: string, what: string) => {
    if (!existsSync(produced))
      throw new BuildError(`${recipe.component} ${recipe.version}`, what, `${pkg}: no binary at ${produced}`);
    const localPath = join(dir, path);
    await mkdir(join(localPath, '..'), { recursive: true });
    await rename(produced, localPath);
    files.push({ path, localPath, sha256: await sha256File(localPath), size: (await stat(localPath)).size });
  };
  for (const [pkg, path] of Object.entries(recipe.packages))
    await keep(pkg, join(out, defaultExecName(pkg)), path, 'go build');
  // Test binaries: without the binaries' build tags, as `go test` builds them.
  for (const [pkg, path] of Object.entries(recipe.tests ?? {})) {
    const produced = join(out, `${defaultExecName(pkg)}.test`);
    const testArgs = [
      'test',
      '-c',
      '-trimpath',
      '-ldflags',
      linkerFlags(recipe, origin.time),
      '-o',
      produced,
      pkg,
    ];
    await go(recipe, 'go test -c', testArgs, moduleDir, log);
    await keep(pkg, produced, path, 'go test -c');
  }
  for (const path of recipe.alsoForImages ?? []) {
    const file = files.find((f) => f.path === path);
    if (!file)
      throw new BuildError(
        `${recipe.component} ${recipe.version}`,
        'go build',
        `${path}: not a bundle path of this recipe`,
      );
    files.push({ ...file, path: imageBinPath(path) });
  }
  const done: BuiltComponent = {
    component: recipe.component,
    version: recipe.version,
    goVersion,
    files,
    seconds: Math.round((Date.now() - started) / 100) / 10,
    built: true,
  };
  await writeFile(`${record}.tmp`, JSON.stringify(done, null, 2));
  await rename(`${record}.tmp`, record);
  return done;
}
