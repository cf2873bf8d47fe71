import { readFile, stat } from 'node:fs/promises';
import { z } from 'zod';
import type { BuiltComponent } from './go.js';
import type { GoRecipe } from './recipes.js';

/** Where a bundle binary an image also carries is listed: `image-bin/<file name>`. */
export function imageBinPath(bundlePath: string): string {
  return `image-bin/${bundlePath.split('/').pop()}`;
}

/** Every bundle path a recipe's build yields: its binaries, its test binaries, their image copies. */
export function recipePaths(recipe: GoRecipe): string[] {
  return [
    ...Object.values(recipe.packages),
    ...Object.values(recipe.tests ?? {}),
    ...(recipe.alsoForImages ?? []).map(imageBinPath),
  ];
}

const recordSchema = z.object({
  component: z.string(),
  version: z.string(),
  goVersion: z.string(),
  seconds: z.number(),
  files: z.array(z.object({ path: z.string(), localPath: z.string(), sha256: z.string(), size: z.number() })),
});

/**
 * The build recorded in `built.json`, narrowed to the files the recipe asks for; undefined when
 * there is none, a file is gone or changed size, or the recipe asks for a file the build did not
 * make (a binary added to the recipe since: then it is built again, Go's caches keeping that cheap).
 */
export async function cachedBuild(record: string, recipe: GoRecipe): Promise<BuiltComponent | undefined> {
  const text = await readFile(record, 'utf8').catch(() => undefined);
  if (!text) return undefined;
  const parsed = recordSchema.safeParse(JSON.parse(text));
  if (!parsed.success) return undefined;
  const wanted = new Set(recipePaths(recipe));
  const files = parsed.data.files.filter((f) => wanted.has(f.path));
  if (files.length !== wanted.size) return undefined;
  for (const file of files) {
    const s = await stat(file.localPath).catch(() => undefined);
    if (!s || s.size !== file.size) return undefined;
  }
  return { ...parsed.data, files, built: false };
}
