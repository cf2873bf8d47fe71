import { existsSync } from 'node:fs';
import { execa } from 'execa';
import { InputError } from '../errors.js';

const TOOLS: Record<string, string> = {
  debootstrap: 'debootstrap',
  'systemd-nspawn': 'systemd-container',
  ip: 'iproute2',
  'ssh-keygen': 'openssh-client',
  'dpkg-deb': 'dpkg',
};

async function has(tool: string): Promise<boolean> {
  return (await execa('sh', ['-c', 'command -v "$1"', 'sh', tool], { reject: false })).exitCode === 0;
}

/** The lab needs root and a few Debian tools; missing tools are installed with apt-get after saying so. */
export async function ensureLabTools(say: (line: string) => void): Promise<void> {
  if (process.getuid?.() !== 0)
    throw new InputError(
      'the lab needs root (it creates a bridge, mounts overlays and boots machines); run it with sudo',
    );
  const missing: string[] = [];
  for (const [tool, pkg] of Object.entries(TOOLS)) if (!(await has(tool))) missing.push(pkg);
  if (missing.length === 0) return;
  if (!(await has('apt-get'))) {
    throw new InputError(
      `the lab needs these packages, and there is no apt-get to install them: ${missing.join(', ')}; install them with your package manager`,
    );
  }
  say(`installing ${missing.join(', ')} with apt-get`);
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  await execa('apt-get', ['update', '-q'], { env });
  await execa('apt-get', ['install', '-y', '-q', ...missing], { env });
}

/** What building the lab's artifacts needs besides Go: a C compiler for runc (cgo, libseccomp) and the static pause. */
const BUILD_NEEDS: { package: string; present: () => Promise<boolean> }[] = [
  { package: 'gcc', present: () => has('gcc') },
  { package: 'pkg-config', present: () => has('pkg-config') },
  { package: 'libseccomp-dev', present: async () => existsSync('/usr/include/seccomp.h') },
  { package: 'libc6-dev', present: async () => existsSync('/usr/include/stdio.h') },
];

export async function ensureBuildTools(say: (line: string) => void): Promise<void> {
  const missing: string[] = [];
  for (const need of BUILD_NEEDS) if (!(await need.present())) missing.push(need.package);
  if (missing.length === 0) return;
  if (!(await has('apt-get')))
    throw new InputError(
      `building the lab's artifacts needs ${missing.join(', ')}; install them with your package manager`,
    );
  say(`installing ${missing.join(', ')} with apt-get (to build runc and pause)`);
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  await execa('apt-get', ['update', '-q'], { env });
  await execa('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { env });
}
