import type { Resource } from '../engine/resources.js';
import { render } from '../engine/template.js';
import type { HostFacts } from '../facts.js';
import { withManagedBlock } from './files.js';
import { installCommand } from './packages.js';

export const CHRONY = {
  /** Debian family: chrony.conf reads sources.d. */
  debianSources: '/etc/chrony/sources.d/kubesmith.sources',
  /** EL family: one chrony.conf, with a managed block. */
  elConf: '/etc/chrony.conf',
};

/**
 * chrony pointed at prepare.ntpServers: a sources.d file on the Debian family; a managed block
 * in /etc/chrony.conf on the EL family (a whole file when chrony is not installed yet).
 */
export function timeSync(
  servers: readonly string[],
  facts: HostFacts,
  chronyConf: string,
  log: (message: string) => void,
): Resource[] {
  if (servers.length === 0) return [];
  const manager = facts.packageManager;
  if (manager === 'none') {
    log(`prepare.ntpServers: no package manager to install chrony on ${facts.os.prettyName}; skipped`);
    return [];
  }
  const serverLines = servers.map((s) => `server ${s} iburst`);
  const debian = manager === 'apt';
  const path = debian ? CHRONY.debianSources : CHRONY.elConf;
  const content = debian
    ? render('chrony/kubesmith.sources', { servers })
    : chronyConf
      ? withManagedBlock(chronyConf, 'time servers', serverLines)
      : render('chrony/chrony-el.conf', { block: withManagedBlock('', 'time servers', serverLines).trim() });
  const resources: Resource[] = [
    {
      kind: 'command',
      title: 'install chrony',
      argv: installCommand(manager, ['chrony']),
      unless: ['sh', '-c', 'command -v chronyd >/dev/null'],
    },
    { kind: 'file', path, content },
  ];
  // A container cannot set the clock: chronyd's unit is skipped there, so it is not managed.
  if (facts.container) {
    log(
      `inside a container (${facts.container}): chrony configured but not started (the host keeps the time)`,
    );
    return resources;
  }
  const service = debian ? 'chrony' : 'chronyd';
  return [
    ...resources,
    { kind: 'service', name: service, enabled: true, state: 'started', restartOn: [path] },
  ];
}
