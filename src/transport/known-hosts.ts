import { createHash } from 'node:crypto';
import { appendFile, chmod, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export type HostKeyPolicy = 'strict' | 'accept-new' | 'off';
export type HostKeyVerdict = 'match' | 'recorded' | 'unknown' | 'changed' | 'unchecked';

/** OpenSSH's name for a host in known_hosts: `addr` on port 22, `[addr]:port` otherwise. */
export function knownHostsName(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

export function keyType(key: Buffer): string {
  const length = key.readUInt32BE(0);
  return key.subarray(4, 4 + length).toString('latin1');
}

export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** A cluster's known_hosts file, in OpenSSH's format so `ssh -o UserKnownHostsFile=` can share it. */
export class KnownHosts {
  private entries: { names: string[]; type: string; key: string }[] | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(readonly file: string) {}

  private async load(): Promise<NonNullable<typeof this.entries>> {
    if (this.entries) return this.entries;
    let text = '';
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    this.entries = text
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#') && !line.startsWith('@'))
      .map((line) => line.split(/\s+/))
      .filter((parts) => parts.length >= 3)
      .map(([names = '', type = '', key = '']) => ({ names: names.split(','), type, key }));
    return this.entries;
  }

  /** Checks a presented key against the file and records it when the policy allows. */
  async verify(name: string, key: Buffer, policy: HostKeyPolicy): Promise<HostKeyVerdict> {
    if (policy === 'off') return 'unchecked';
    const entries = await this.load();
    const type = keyType(key);
    const encoded = key.toString('base64');
    const forName = entries.filter((e) => e.names.includes(name));
    if (forName.some((e) => e.type === type && e.key === encoded)) return 'match';
    if (forName.some((e) => e.type === type)) return 'changed';
    if (policy === 'strict') return forName.length > 0 ? 'changed' : 'unknown';
    entries.push({ names: [name], type, key: encoded });
    this.writing = this.writing.then(async () => {
      await mkdir(dirname(this.file), { recursive: true });
      await appendFile(this.file, `${name} ${type} ${encoded}\n`, { mode: 0o600 });
      await chmod(this.file, 0o600);
    });
    await this.writing;
    return 'recorded';
  }
}
