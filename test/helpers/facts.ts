import type { HostFacts } from '../../src/facts.js';

/** Facts of a healthy Debian 12 host, with the given differences. */
export function hostFacts(overrides: Partial<HostFacts> = {}, os: Partial<HostFacts['os']> = {}): HostFacts {
  return {
    os: { id: 'debian', idLike: [], versionId: '12', codename: 'bookworm', prettyName: 'Debian 12', ...os },
    kernel: '6.1.0-18-amd64',
    arch: 'x86_64',
    cpus: 4,
    memoryMiB: 8000,
    swapActive: false,
    productUuid: 'a',
    macs: ['52:54:00:00:00:01'],
    listeningPorts: [22],
    clockSkewMs: 20,
    container: '',
    cgroupVersion: 2,
    kubesmithCluster: '',
    kubernetesInstalled: '',
    packageManager: 'apt',
    ...overrides,
  };
}
