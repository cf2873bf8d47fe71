import { needsLocalBalancer } from '../components/kubernetes/haproxy.js';
import type { Resource } from '../engine/resources.js';
import type { Step, StepContext } from '../engine/step.js';
import { render } from '../engine/template.js';
import { FACT_SECTIONS, factsFromSections, type HostFacts } from '../facts.js';
import { clusterMarker } from '../hostlib/marker.js';
import { sectionedRead } from '../hostlib/sections.js';
import { clusterHostsEntries, withHostsBlock, withoutSwap } from '../os/files.js';
import {
  moduleCheck,
  moduleProbeScript,
  requiredModules,
  SYSCTL_SETTINGS,
  sysctlMatchesScript,
  sysctlWritableScript,
} from '../os/kernel.js';
import { upgradeKernel } from '../os/kernel-upgrade.js';
import { installCommand } from '../os/packages.js';
import { redHatSecurity } from '../os/red-hat.js';
import { timeSync } from '../os/time-sync.js';
import { sh } from '../transport/quote.js';

const PATHS = {
  sysctl: '/etc/sysctl.d/95-kubesmith.conf',
  modules: '/etc/modules-load.d/kubesmith.conf',
  journald: '/etc/systemd/journald.conf.d/95-kubesmith.conf',
  limits: '/etc/security/limits.d/95-kubesmith.conf',
  hosts: '/etc/hosts',
  fstab: '/etc/fstab',
};

const PACKAGE_BINARIES: Record<string, string> = {
  conntrack: 'conntrack',
  ipset: 'ipset',
  socat: 'socat',
  iptables: 'iptables',
  ipvsadm: 'ipvsadm',
  haproxy: 'haproxy',
};

export interface Observed {
  facts: HostFacts;
  hosts: string;
  fstab: string;
  /** /etc/chrony.conf (the EL family's), empty when absent. */
  chronyConf: string;
  modules: Map<string, boolean>;
  canModprobe: boolean;
  writable: Map<string, boolean>;
}

/** The one read of prepare: facts, /etc/hosts, /etc/fstab, chrony.conf, modules, sysctl writability. */
export function observeRead(modules: readonly string[]) {
  return sectionedRead([
    ...FACT_SECTIONS,
    ['hostsfile', `cat ${PATHS.hosts}`],
    ['fstab', `cat ${PATHS.fstab} 2>/dev/null`],
    ['chronyconf', 'cat /etc/chrony.conf 2>/dev/null'],
    ['kernelprobe', [moduleProbeScript(modules), sysctlWritableScript(SYSCTL_SETTINGS)].join('\n')],
  ]);
}

/** What the read printed, as data; /etc/hosts and /etc/fstab exactly as they are on the host. */
export function parseObserved(
  stdout: string,
  read: ReturnType<typeof observeRead>,
  midpointMs: number,
): Observed {
  const sections = read.parse(stdout);
  const section = (name: string) => sections.get(name) ?? '';
  const probe = section('kernelprobe')
    .split('\n')
    .map((l) => l.split(' '));
  return {
    facts: factsFromSections(sections, midpointMs),
    hosts: section('hostsfile'),
    fstab: section('fstab'),
    chronyConf: section('chronyconf'),
    modules: new Map(probe.filter((p) => p[0] === 'module').map((p) => [p[1] ?? '', p[2] === 'yes'])),
    canModprobe: probe.some((p) => p[0] === 'modprobe' && p[1] === 'yes'),
    writable: new Map(probe.filter((p) => p[0] === 'sysctl').map((p) => [p[1] ?? '', p[2] === 'rw'])),
  };
}

async function observe(ctx: StepContext): Promise<Observed> {
  const read = observeRead(requiredModules(ctx.inventory));
  const before = Date.now();
  const { stdout } = await ctx.read(['sh', '-c', read.script]);
  return parseObserved(stdout, read, (before + Date.now()) / 2);
}

export const prepare: Step = {
  id: 'prepare',
  title: 'Prepare the OS: host name, /etc/hosts, swap, kernel modules, sysctl, journald, limits, packages',
  async run(ctx) {
    const { host, inventory } = ctx;
    const seen = await observe(ctx);
    // The host checks (OS, kernel, cgroups, resources, ports) ran for every host before any step
    // (commands/run.ts); what is left needs this step's own read: the kernel modules.
    const modules = requiredModules(inventory);
    const missing = modules.filter((m) => !seen.modules.get(m));
    if (missing.length && !seen.canModprobe)
      throw new Error(
        `preflight refused ${host.name}: kernel ${seen.facts.kernel} lacks ${missing.join(', ')} (not loaded, not built in, no modules to load)${missing.some((m) => m.startsWith('ip_vs')) ? '; set cluster.network.proxyMode: iptables, or use a kernel with IPVS' : ''}`,
      );

    const container = seen.facts.container;
    const settings = SYSCTL_SETTINGS.map((s) => ({
      ...s,
      skipped: container !== '' && seen.writable.get(s.key) === false,
    }));
    const skipped = settings.filter((s) => s.skipped).map((s) => s.key);
    if (skipped.length)
      ctx.log(`inside a container (${container}): skipping read-only sysctls ${skipped.join(', ')}`);
    const applied = settings.filter((s) => !s.skipped);
    const runsKubelet = host.roles.includes('master') || host.roles.includes('node');
    const packages = Object.keys(PACKAGE_BINARIES).filter((p) => {
      if (p === 'ipvsadm') return inventory.cluster.network.proxyMode === 'ipvs';
      if (p === 'haproxy') return runsKubelet && needsLocalBalancer(inventory);
      return true;
    });
    const hostsEntries = clusterHostsEntries(inventory.hosts);
    const fstab = withoutSwap(seen.fstab);

    const resources: Resource[] = [
      { kind: 'file', path: '/etc/hostname', content: `${host.name}\n` },
      {
        kind: 'command',
        title: `hostname ${host.name}`,
        argv: ['hostname', host.name],
        unless: ['sh', '-c', sh`[ "$(hostname)" = ${host.name} ]`],
      },
      { kind: 'file', path: PATHS.hosts, content: withHostsBlock(seen.hosts, hostsEntries) },
      {
        kind: 'command',
        title: 'swapoff -a',
        argv: ['swapoff', '-a'],
        unless: ['sh', '-c', '[ "$(wc -l < /proc/swaps)" -le 1 ]'],
      },
      ...(fstab !== undefined ? [{ kind: 'file', path: PATHS.fstab, content: fstab } as const] : []),
      { kind: 'file', path: PATHS.modules, content: render('prepare/modules-load.conf', { modules }) },
      ...missing.map(
        (m): Resource => ({
          kind: 'command',
          title: `modprobe ${m}`,
          argv: ['modprobe', m],
          unless: ['sh', '-c', moduleCheck(m)],
        }),
      ),
      { kind: 'file', path: PATHS.sysctl, content: render('prepare/sysctl.conf', { settings, container }) },
      {
        kind: 'command',
        title: `sysctl -p ${PATHS.sysctl}`,
        argv: ['sysctl', '-q', '-p', PATHS.sysctl],
        unless: ['sh', '-c', sysctlMatchesScript(applied)],
        onChangeOf: [PATHS.sysctl],
      },
      { kind: 'directory', path: '/var/log/journal' },
      { kind: 'file', path: PATHS.journald, content: render('prepare/journald.conf', { maxUse: '1G' }) },
      { kind: 'service', name: 'systemd-journald', state: 'started', restartOn: [PATHS.journald] },
      { kind: 'file', path: PATHS.limits, content: render('prepare/limits.conf', { nofile: 1048576 }) },
      {
        kind: 'command',
        title: `install ${packages.join(' ')}`,
        argv: installCommand(seen.facts.packageManager, packages),
        unless: [
          'sh',
          '-c',
          packages.map((p) => sh`command -v ${PACKAGE_BINARIES[p] ?? p} >/dev/null`).join(' && '),
        ],
        hint: 'the host has no working package source: configure a mirror, or install these packages by hand',
      },
      clusterMarker(inventory),
      ...timeSync(inventory.prepare.ntpServers, seen.facts, seen.chronyConf, ctx.log),
      ...redHatSecurity(seen.facts, inventory.prepare),
    ];
    await ctx.apply(resources);
    if (inventory.prepare.kernelUpgrade.enabled) await upgradeKernel(ctx, seen.facts);
  },
  async verify(ctx) {
    const modules = requiredModules(ctx.inventory);
    const { stdout } = await ctx.read(['sh', '-c', moduleProbeScript(modules)]);
    const unavailable = stdout.split('\n').filter((l) => l.startsWith('module ') && l.endsWith(' no'));
    if (unavailable.length)
      throw new Error(
        `kernel modules still unavailable: ${unavailable.map((l) => l.split(' ')[1]).join(', ')}`,
      );
  },
};
