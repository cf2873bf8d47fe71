import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import SSHConfig from 'ssh-config';

export interface SshConfigEntry {
  hostName?: string;
  user?: string;
  port?: number;
  identityFile?: string;
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** What ~/.ssh/config says for a host alias; empty when there is no config. */
export function sshConfigFor(alias: string, file = join(homedir(), '.ssh', 'config')): SshConfigEntry {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return {};
  }
  const computed = SSHConfig.parse(text).compute(alias);
  const port = first(computed.Port);
  const hostName = first(computed.HostName);
  return {
    hostName: hostName && hostName !== alias ? hostName : undefined,
    user: first(computed.User),
    port: port ? Number(port) : undefined,
    identityFile: first(computed.IdentityFile),
  };
}
