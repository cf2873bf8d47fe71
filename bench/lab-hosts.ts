/** The bench lab's hosts and how OpenSSH reaches them (key and pinned host keys from the lab's files). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { HOME, LAB } from './run.js';

export interface LabHost {
  name: string;
  address: string;
}

export interface LabAccess {
  hosts: LabHost[];
  identityFile: string;
  /** The artifact bundle the lab's inventory names (artifacts.dir). */
  bundleDir: string;
  /** OpenSSH options shared by every call: key, pinned known_hosts, no prompts. */
  sshOptions: string[];
}

export function labAccess(): LabAccess {
  const clusterDir = join(HOME, 'clusters', LAB);
  const inventory = parse(readFileSync(join(clusterDir, 'inventory.yaml'), 'utf8')) as {
    ssh: { identityFile: string; user: string };
    hosts: LabHost[];
    artifacts: { dir: string };
  };
  return {
    hosts: inventory.hosts.map((h) => ({ name: h.name, address: h.address })),
    bundleDir: inventory.artifacts.dir,
    identityFile: inventory.ssh.identityFile,
    sshOptions: [
      '-i',
      inventory.ssh.identityFile,
      '-o',
      `UserKnownHostsFile=${join(clusterDir, 'known_hosts')}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'BatchMode=yes',
      '-l',
      inventory.ssh.user,
    ],
  };
}
