import type { HostFacts } from '../facts.js';
import { sh } from '../transport/quote.js';

/**
 * How long apt-get waits for the dpkg lock (seconds) before failing: a fresh Ubuntu host runs
 * unattended-upgrades right after boot, and apt-get would otherwise fail at once.
 */
export const APT_LOCK_TIMEOUT_SECONDS = 300;

/** `apt-get` with the bounded wait for the dpkg lock, non-interactive: the start of every apt-get argv. */
export function aptGet(...args: string[]): string[] {
  return [
    'env',
    'DEBIAN_FRONTEND=noninteractive',
    'apt-get',
    '-o',
    `DPkg::Lock::Timeout=${APT_LOCK_TIMEOUT_SECONDS}`,
    ...args,
  ];
}

/** argv that installs packages with the host's package manager, or says clearly that it has none. */
export function installCommand(manager: HostFacts['packageManager'], packages: string[]): string[] {
  if (manager === 'apt') return aptGet('install', '-y', '-q', ...packages);
  if (manager === 'none')
    return [
      'sh',
      '-c',
      sh`echo ${`missing packages (${packages.join(' ')}) and no apt-get, dnf or yum to install them`} >&2; exit 1`,
    ];
  return [manager, 'install', '-y', ...packages];
}
