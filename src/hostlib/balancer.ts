import { balancerFiles } from '../components/kubernetes/host-files.js';
import { type HostFile, K8S_PATHS } from '../components/kubernetes/paths.js';
import type { Resource } from '../engine/resources.js';
import type { Inventory } from '../inventory/schema.js';

/** A file resource from a rendered host file. */
export const fileResource = (f: HostFile): Resource => ({
  kind: 'file',
  path: f.path,
  content: f.content,
  mode: f.mode,
});

/**
 * The local balancer on a master or node: haproxy's config and drop-in, restarted when they
 * change; nothing when a control-plane endpoint replaces it.
 */
export function balancerResources(inv: Inventory): Resource[] {
  const files = balancerFiles(inv);
  if (files.length === 0) return [];
  return [
    { kind: 'directory', path: '/etc/systemd/system/haproxy.service.d', mode: 0o755 },
    ...files.map(fileResource),
    {
      kind: 'service',
      name: 'haproxy',
      enabled: true,
      state: 'started',
      // A new config (masters added or removed) is a reload: haproxy's master process hands its
      // listening sockets to the new workers, so nothing on the host loses the API meanwhile.
      restartOn: files.filter((f) => f.path !== K8S_PATHS.haproxyConfig).map((f) => f.path),
      reloadOn: [K8S_PATHS.haproxyConfig],
    },
  ];
}

/** The paths among `files` that a component's flags name: what it reads, so what restarts it. */
export function flagInputs(flags: readonly string[], files: readonly HostFile[]): string[] {
  return files.map((f) => f.path).filter((path) => flags.some((flag) => flag.endsWith(`=${path}`)));
}
