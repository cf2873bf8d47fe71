import type { HostFacts } from '../facts.js';
import { sh } from '../transport/quote.js';

/** argv that installs packages with the host's package manager, or says clearly that it has none. */
export function installCommand(manager: HostFacts['packageManager'], packages: string[]): string[] {
  if (manager === 'apt')
    return ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-q', ...packages];
  if (manager === 'none')
    return [
      'sh',
      '-c',
      sh`echo ${`missing packages (${packages.join(' ')}) and no apt-get, dnf or yum to install them`} >&2; exit 1`,
    ];
  return [manager, 'install', '-y', ...packages];
}
