import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { InputError } from '../errors.js';

export const backupManifestSchema = z.object({
  format: z.literal(1),
  cluster: z.string(),
  createdAt: z.string(),
  note: z.string().default(''),
  kubesmithVersion: z.string(),
  etcdVersion: z.string(),
  members: z.array(z.string()),
  takenFrom: z.string(),
  revision: z.number(),
  keyCount: z.number(),
  snapshot: z.object({
    file: z.string(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    size: z.number(),
    hash: z.number(),
    totalKey: z.number(),
  }),
  walDir: z.string().default(''),
  /** Taken by a restore before it replaced the data: never what `restore latest` means. */
  safety: z.boolean().default(false),
  /** keyCount was read at the snapshot's own revision (older backups read it before the snapshot). */
  keyCountAtRevision: z.boolean().default(false),
});
export type BackupManifest = z.output<typeof backupManifestSchema>;

export interface Backup {
  name: string;
  dir: string;
  manifest: BackupManifest;
}

/** A folder name that sorts by time: 2026-11-23T13-31-05Z. */
export function backupName(date = new Date()): string {
  return date
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
}

/** A backup name not taken yet: two backups within one second (a backup, then a restore's safety snapshot) get -2, -3, … */
export function freeBackupName(backupsDir: string, date = new Date()): string {
  const base = backupName(date);
  for (let n = 1; ; n++) {
    const name = n === 1 ? base : `${base}-${n}`;
    if (!existsSync(join(backupsDir, name)) && !existsSync(join(backupsDir, `.${name}.partial`))) return name;
  }
}

export async function readBackup(backupsDir: string, name: string): Promise<Backup> {
  const dir = join(backupsDir, name);
  let text: string;
  try {
    text = await readFile(join(dir, 'manifest.json'), 'utf8');
  } catch {
    throw new InputError(
      `no backup '${name}' in ${backupsDir}; list them with: kubesmith backup CLUSTER --list`,
    );
  }
  const parsed = backupManifestSchema.safeParse(JSON.parse(text));
  if (!parsed.success)
    throw new InputError(
      `${join(dir, 'manifest.json')} is not a kubesmith backup manifest: ${parsed.error.issues[0]?.message}`,
    );
  return { name, dir, manifest: parsed.data };
}

/** Every readable backup, newest first. */
export async function listBackups(backupsDir: string): Promise<Backup[]> {
  const names = await readdir(backupsDir).catch(() => [] as string[]);
  const backups = await Promise.all(names.map((n) => readBackup(backupsDir, n).catch(() => undefined)));
  return backups.filter((b): b is Backup => b !== undefined).sort((a, b) => b.name.localeCompare(a.name));
}

/** The newest backup a user took (safety snapshots of restore runs are skipped), or undefined. */
export async function latestBackup(backupsDir: string): Promise<Backup | undefined> {
  return (await listBackups(backupsDir)).find((b) => !b.manifest.safety);
}

/** Keeps the newest `keep` backups; returns the names removed. */
export async function pruneBackups(backupsDir: string, keep: number): Promise<string[]> {
  const old = (await listBackups(backupsDir)).slice(keep);
  for (const b of old) await rm(b.dir, { recursive: true, force: true });
  return old.map((b) => b.name);
}
