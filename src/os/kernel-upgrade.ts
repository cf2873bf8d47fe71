import type { Resource } from '../engine/resources.js';
import { oneAtATime } from '../engine/shared.js';
import type { StepContext } from '../engine/step.js';
import type { HostFacts } from '../facts.js';
import { sh } from '../transport/quote.js';
import { aptGet } from './packages.js';
import { isRedHatFamily } from './red-hat.js';

export const ELREPO_ROOT = 'https://elrepo.org/linux';
/** ELRepo's signing keys, always from ELRepo itself over https: a mirror serves packages, never the keys that vouch for them. */
export const ELREPO_KEY_ORIGIN = 'https://www.elrepo.org';
const ELREPO_KEYS = ['RPM-GPG-KEY-elrepo.org', 'RPM-GPG-KEY-v2-elrepo.org'];
export const ELREPO_REPO_FILE = '/etc/yum.repos.d/kubesmith-elrepo-kernel.repo';

/** Where a host's newer long-term kernel comes from. */
export type KernelSource =
  | { family: 'el'; major: number; manager: 'dnf' | 'yum' }
  | { family: 'debian'; codename: string; arch: string }
  | { family: 'ubuntu'; versionId: string };

const DEBIAN_ARCH: Record<string, string> = { x86_64: 'amd64', aarch64: 'arm64' };

/** The host's kernel source, or why prepare.kernelUpgrade cannot apply to it. */
export function kernelSource(facts: HostFacts): KernelSource | { refused: string } {
  if (facts.container)
    return {
      refused: `runs in a container (${facts.container}): its kernel belongs to the machine that runs it; set prepare.kernelUpgrade.enabled: false`,
    };
  const { id, versionId, codename, prettyName } = facts.os;
  if (isRedHatFamily(facts) && id !== 'fedora') {
    const major = Number.parseInt(versionId, 10);
    if (facts.packageManager !== 'dnf' && facts.packageManager !== 'yum')
      return { refused: `${prettyName} has no dnf or yum to install ELRepo's kernel-lt` };
    return { family: 'el', major, manager: facts.packageManager };
  }
  if (id === 'ubuntu') return { family: 'ubuntu', versionId };
  if (id === 'debian' && codename && DEBIAN_ARCH[facts.arch])
    return { family: 'debian', codename, arch: DEBIAN_ARCH[facts.arch]! };
  return { refused: `no long-term kernel source known for ${prettyName}; upgrade its kernel by hand` };
}

/**
 * ELRepo's kernel repository, disabled by default so that it is used only for kernel-lt. With
 * a mirror, packages come from the mirror but the GPG keys from ELREPO_KEY_ORIGIN, so a mirror
 * cannot sign its own packages (dnf imports a key from gpgkey= only when the rpm database lacks it).
 */
export function elrepoRepoFile(major: number, mirror?: string): string {
  const root = (mirror ?? ELREPO_ROOT).replace(/\/+$/, '');
  return [
    '# Managed by kubesmith (prepare.kernelUpgrade): ELRepo kernel-lt only.',
    '[kubesmith-elrepo-kernel]',
    `name=ELRepo kernel-lt for el${major}`,
    `baseurl=${root}/kernel/el${major}/$basearch/`,
    'enabled=0',
    'gpgcheck=1',
    `gpgkey=${ELREPO_KEYS.map((k) => `${ELREPO_KEY_ORIGIN}/${k}`).join(' ')}`,
    '',
  ].join('\n');
}

const NEWEST_BOOT_IMAGE =
  "ls -1 /boot/vmlinuz-* 2>/dev/null | sed 's|^/boot/vmlinuz-||' | sort -V | tail -n 1";

/** Installs the newer kernel and makes it the default boot entry; each part guarded. */
export function kernelUpgradeResources(source: KernelSource, mirror?: string): Resource[] {
  const hint =
    'the host cannot reach its kernel source: set prepare.kernelUpgrade.mirror, or fix its package sources';
  if (source.family === 'el') {
    const newestLt = 'ls -1 /boot/vmlinuz-*elrepo* 2>/dev/null | sort -V | tail -n 1';
    return [
      { kind: 'file', path: ELREPO_REPO_FILE, content: elrepoRepoFile(source.major, mirror) },
      {
        kind: 'command',
        title: 'install kernel-lt (ELRepo)',
        argv: [source.manager, '--enablerepo=kubesmith-elrepo-kernel', '-y', 'install', 'kernel-lt'],
        unless: ['rpm', '-q', 'kernel-lt'],
        hint: mirror
          ? `${hint}; ELRepo's signing keys come from ${ELREPO_KEY_ORIGIN} even with a mirror: let the host reach it, or import the keys first (rpm --import) from a copy you trust`
          : hint,
      },
      {
        kind: 'command',
        title: 'boot kernel-lt by default',
        argv: ['sh', '-c', `grubby --set-default "$(${newestLt})"`],
        unless: ['sh', '-c', `[ "$(grubby --default-kernel)" = "$(${newestLt})" ]`],
      },
    ];
  }
  if (source.family === 'ubuntu') {
    const pkg = `linux-generic-hwe-${source.versionId}`;
    return [
      {
        kind: 'command',
        title: `install ${pkg}`,
        argv: aptGet('install', '-y', '-q', pkg),
        unless: ['dpkg-query', '-W', pkg],
        hint,
      },
    ];
  }
  const pkg = `linux-image-${source.arch}`;
  const backports = `${source.codename}-backports`;
  return [
    {
      kind: 'command',
      title: `install ${pkg} from ${backports}`,
      argv: aptGet('install', '-y', '-q', '-t', backports, pkg),
      // Backported kernels carry "bpo" in their version.
      unless: ['sh', '-c', sh`dpkg-query -W -f '\${Version}' ${pkg} 2>/dev/null | grep -q bpo`],
      hint: `add ${backports} (or its mirror) to the host's apt sources; ${hint}`,
    },
  ];
}

/** Shell printing the kernel release the next boot will run. */
export function nextBootKernelScript(source: KernelSource): string {
  if (source.family === 'el') return "grubby --default-kernel | sed 's|^/boot/vmlinuz-||'";
  return NEWEST_BOOT_IMAGE;
}

/**
 * prepare.kernelUpgrade on one host: install, then, when the next boot would run another
 * kernel, reboot (hosts take turns: never two down at once) and check the kernel it came back with.
 */
export async function upgradeKernel(ctx: StepContext, facts: HostFacts): Promise<void> {
  const { mirror, rebootTimeoutSeconds } = ctx.inventory.prepare.kernelUpgrade;
  const source = kernelSource(facts);
  if ('refused' in source) throw new Error(`prepare.kernelUpgrade: ${ctx.host.name} ${source.refused}`);
  await ctx.apply(kernelUpgradeResources(source, mirror));
  if (ctx.dryRun) return;
  const next = (await ctx.read(['sh', '-c', nextBootKernelScript(source)])).stdout.trim();
  if (!next || next === facts.kernel) return;
  ctx.log(`kernel ${facts.kernel} -> ${next}: rebooting (one host at a time)`);
  await oneAtATime(ctx.shared, 'reboot', ctx.host.name, () =>
    ctx.reboot({ timeoutMs: rebootTimeoutSeconds * 1000 }),
  );
  const running = (await ctx.read(['uname', '-r'])).stdout.trim();
  if (running !== next)
    throw new Error(
      `${ctx.host.name} came back with kernel ${running}, not ${next}: check the boot loader's default entry`,
    );
}
