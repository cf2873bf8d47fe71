import { resolveLocalPath } from '../home.js';
import type { LoadedInventory } from '../inventory/load.js';
import type { HostSpec } from '../inventory/schema.js';
import type { KnownHosts } from './known-hosts.js';
import type { SshTarget } from './ssh.js';
import { sshConfigFor } from './ssh-config.js';

export interface TargetOptions {
  knownHosts: KnownHosts;
  becomePassword?: string;
  sshConfigFile?: string;
}

/**
 * How to reach a host. Precedence: the host's own `ssh:` block, then the cluster's
 * `ssh:` keys the user wrote, then ~/.ssh/config for the host's name, then defaults.
 */
export function sshTargetFor(loaded: LoadedInventory, host: HostSpec, options: TargetOptions): SshTarget {
  const { inventory, raw, file } = loaded;
  const written = (raw.ssh ?? {}) as Record<string, unknown>;
  const fromConfig = sshConfigFor(host.name, options.sshConfigFile);
  const pick = <K extends 'user' | 'port' | 'identityFile'>(key: K) =>
    host.ssh?.[key] ??
    (written[key] !== undefined ? inventory.ssh[key] : (fromConfig[key] ?? inventory.ssh[key]));
  const identity = pick('identityFile');
  const bastion = inventory.ssh.bastion;
  return {
    name: host.name,
    address: fromConfig.hostName ?? host.address,
    port: pick('port'),
    user: pick('user'),
    identityFile: identity ? resolveLocalPath(identity, file) : undefined,
    agent: process.env.SSH_AUTH_SOCK,
    hostKeyPolicy: inventory.ssh.hostKeyPolicy,
    knownHosts: options.knownHosts,
    connectTimeoutMs: inventory.ssh.connectTimeoutSeconds * 1000,
    becomePassword: options.becomePassword,
    bastion: bastion
      ? {
          address: bastion.address,
          port: bastion.port,
          user: bastion.user ?? pick('user'),
          identityFile: resolveLocalPath(bastion.identityFile ?? identity, file),
        }
      : undefined,
  };
}
