import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type UserCertFacts, userCertFacts } from './user-cert.js';

/**
 * The deploy machine's record of the users kubesmith issued, under clusters/<name>/users/:
 * <user>.kubeconfig (0600: it holds the key) and <user>.crt (the certificate alone, which --list
 * reads for its expiry, and which stays after --revoke while the certificate is still valid).
 */
export const usersDir = (clusterDir: string) => join(clusterDir, 'users');
export const userKubeconfigFile = (clusterDir: string, user: string) =>
  join(usersDir(clusterDir), `${user}.kubeconfig`);
const certFile = (clusterDir: string, user: string) => join(usersDir(clusterDir), `${user}.crt`);

async function writeAtomic(file: string, content: string, mode: number): Promise<void> {
  const staged = `${file}.tmp-${process.pid}`;
  await writeFile(staged, content, { mode });
  await rename(staged, file);
}

/** Writes the user's kubeconfig (0600) and certificate; the facts of the certificate it replaced, if any. */
export async function saveUserRecord(
  clusterDir: string,
  user: string,
  files: { kubeconfig: string; certPem: string },
): Promise<{ kubeconfigFile: string; replaced?: UserCertFacts }> {
  await mkdir(usersDir(clusterDir), { recursive: true, mode: 0o700 });
  const previous = await readFile(certFile(clusterDir, user), 'utf8').catch(() => undefined);
  const kubeconfigFile = userKubeconfigFile(clusterDir, user);
  await writeAtomic(kubeconfigFile, files.kubeconfig, 0o600);
  await writeAtomic(certFile(clusterDir, user), files.certPem, 0o644);
  return { kubeconfigFile, ...(previous ? { replaced: userCertFacts(previous) } : {}) };
}

export interface UserRecord extends UserCertFacts {
  /** Whether the kubeconfig (the key) is still here: --revoke removes it. */
  hasKubeconfig: boolean;
}

/** Every user certificate recorded here, by user name; unreadable files are left out. */
export async function readUserRecords(clusterDir: string): Promise<UserRecord[]> {
  const names = await readdir(usersDir(clusterDir)).catch(() => [] as string[]);
  const records: UserRecord[] = [];
  for (const name of names.filter((n) => n.endsWith('.crt')).sort()) {
    const user = name.slice(0, -'.crt'.length);
    try {
      const facts = userCertFacts(await readFile(certFile(clusterDir, user), 'utf8'));
      records.push({ ...facts, hasKubeconfig: names.includes(`${user}.kubeconfig`) });
    } catch {
      // Not a certificate we can read: not one of ours to report.
    }
  }
  return records;
}

/** Removes the user's kubeconfig (its key); whether there was one. The certificate record stays. */
export async function removeUserKubeconfig(clusterDir: string, user: string): Promise<boolean> {
  const file = userKubeconfigFile(clusterDir, user);
  const existed = await stat(file).then(
    () => true,
    () => false,
  );
  await rm(file, { force: true });
  return existed;
}
