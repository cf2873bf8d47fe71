import { z } from 'zod';
import type { CommandResource } from '../engine/resources.js';
import { render } from '../engine/template.js';
import type { Inventory } from '../inventory/schema.js';
import { minorOf } from '../inventory/versions.js';

export const CONTAINERD_PATHS = {
  config: '/etc/containerd/config.toml',
  certsDir: '/etc/containerd/certs.d',
  unit: '/etc/systemd/system/containerd.service',
  crictl: '/etc/crictl.yaml',
  cniBinDir: '/opt/cni/bin',
  socket: '/run/containerd/containerd.sock',
} as const;

/** The pause image each Kubernetes minor expects (kubeadm's constants). */
const PAUSE: Record<string, string> = {
  '1.34': '3.10.1',
  '1.35': '3.10.1',
  '1.36': '3.10.1',
  '1.37': '3.10.1',
};

/** The pause image containerd starts pods with: the bundle's own when it carries one. */
export function sandboxImage(inv: Inventory, bundled: readonly { name: string }[] = []): string {
  const fromBundle = bundled.find((image) => /\/pause:[^/]+$/.test(image.name));
  if (fromBundle) return fromBundle.name;
  return `${inv.cluster.imageRegistry}/pause:${PAUSE[minorOf(inv.cluster.kubernetesVersion)] ?? '3.10.1'}`;
}

function versionParts(version: string): [number, number] {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return [major, minor];
}

/** config.toml for the installed containerd: config version 2 for 1.6/1.7, version 3 for 2.x. */
export function containerdConfig(
  version: string,
  options: { runc: string; snapshotter: string; sandboxImage: string; restrictOomScoreAdj?: boolean },
): string {
  const [major, minor] = versionParts(version);
  const vars = {
    version,
    sandboxImage: options.sandboxImage,
    snapshotter: options.snapshotter,
    restrictOomScoreAdj: options.restrictOomScoreAdj ?? false,
    runc: options.runc,
    cniBinDir: CONTAINERD_PATHS.cniBinDir,
    cniBinDirs: major > 2 || (major === 2 && minor >= 1),
    certsDir: CONTAINERD_PATHS.certsDir,
  };
  return render(major >= 2 ? 'containerd/config-v3.toml' : 'containerd/config-v2.toml', vars);
}

/** containerd's overlayfs snapshotter cannot stack on an overlayfs (a host that is itself a container). */
export function snapshotterFor(varLibContainerdFsType: string): 'native' | 'overlayfs' {
  return varLibContainerdFsType === 'overlayfs' ? 'native' : 'overlayfs';
}

const CAP_SYS_RESOURCE = 24n;

/** Whether root can lower OOM scores below 0 (containerd gives pod sandboxes -998), from /proc/self/status CapBnd. */
export function canLowerOomScore(capBndHex: string): boolean {
  return /^[0-9a-f]+$/i.test(capBndHex) && ((BigInt(`0x${capBndHex}`) >> CAP_SYS_RESOURCE) & 1n) === 1n;
}

/** The upstream server of a registry name as containerd's hosts.toml wants it. */
function serverOf(registry: string, insecure: boolean): string {
  if (registry === 'docker.io') return 'https://registry-1.docker.io';
  return `${insecure ? 'http' : 'https'}://${registry}`;
}

/** The first line of every hosts.toml kubesmith writes: only files that start with it are ever removed. */
export const HOSTS_TOML_MARKER = '# Managed by kubesmith';

/** The registries that get a certs.d/<registry>/hosts.toml: every mirrored or insecure one. */
export function configuredRegistries(inv: Inventory): string[] {
  return [
    ...new Set([...Object.keys(inv.cluster.registryMirrors), ...inv.cluster.insecureRegistries]),
  ].sort();
}

/** certs.d/<registry>/hosts.toml for every mirrored or insecure registry. */
export function registryHostFiles(inv: Inventory): Map<string, string> {
  const files = new Map<string, string>();
  for (const registry of configuredRegistries(inv)) {
    const insecure = inv.cluster.insecureRegistries.includes(registry);
    const mirrors = (inv.cluster.registryMirrors[registry] ?? []).map((url) => ({ url, skipVerify: false }));
    const hosts = insecure ? [...mirrors, { url: serverOf(registry, true), skipVerify: true }] : mirrors;
    files.set(
      `${CONTAINERD_PATHS.certsDir}/${registry}/hosts.toml`,
      render('containerd/hosts.toml', { registry, server: serverOf(registry, insecure), hosts }),
    );
  }
  return files;
}

/**
 * Lists ("check": exits 1 if there is any) or removes ("remove") the hosts.toml files under a
 * certs.d directory that kubesmith wrote (first line HOSTS_TOML_MARKER) for registries not in
 * the arguments; a registry directory left empty goes too. Files without the marker (the
 * administrator's own) are never touched. Arguments: mode, certs.d directory, registries to keep.
 */
const STALE_HOSTS_TOML = `mode=$1 dir=$2
shift 2
stale() {
  find "$dir" -mindepth 2 -type f -name hosts.toml 2>/dev/null | while IFS= read -r f; do
    IFS= read -r first < "$f" || [ -n "$first" ] || continue
    case $first in '${HOSTS_TOML_MARKER}'*) ;; *) continue ;; esac
    registry=\${f#"$dir"/}
    registry=\${registry%/hosts.toml}
    for keep in "$@"; do [ "$keep" = "$registry" ] && continue 2; done
    printf '%s\n' "$f"
  done
}
if [ "$mode" = check ]; then
  [ -z "$(stale "$@")" ]
else
  stale "$@" | while IFS= read -r f; do
    rm -f -- "$f" || exit 1
    rmdir -- "\${f%/hosts.toml}" 2>/dev/null || true
  done
fi`;

/**
 * Removes the hosts.toml of registries dropped from cluster.registryMirrors and
 * cluster.insecureRegistries (a removed insecure registry would keep skip_verify), only where
 * kubesmith wrote it; runs only when the guard finds such a file.
 */
export function staleRegistryCleanup(
  keep: readonly string[],
  certsDir: string = CONTAINERD_PATHS.certsDir,
): CommandResource {
  const argv = (mode: 'check' | 'remove') => [
    'sh',
    '-c',
    STALE_HOSTS_TOML,
    'kubesmith',
    mode,
    certsDir,
    ...keep,
  ];
  return {
    kind: 'command',
    title: `remove hosts.toml of registries no longer configured (${certsDir})`,
    argv: argv('remove'),
    unless: argv('check'),
  };
}

/** The parts of containerd's effective CRI config (Status verbose info.config) the step checks. */
const criConfig = z
  .object({
    // containerd 2.x reports only the runtime part here; the image part (sandbox, registry) is not in Status.
    sandboxImage: z.string().optional(),
    containerd: z
      .object({
        runtimes: z.record(
          z.string(),
          z.object({ options: z.record(z.string(), z.unknown()).nullish() }).loose(),
        ),
      })
      .loose(),
    registry: z.object({ configPath: z.string() }).loose().optional(),
  })
  .loose();

/**
 * What differs between the config containerd runs with (CRI Status, verbose: info.config) and
 * what kubesmith rendered: catches a config written but never loaded.
 */
export function criConfigProblems(info: Record<string, string>, sandbox: string): string[] {
  if (info.config === undefined) return ['the runtime did not report its config'];
  const config = criConfig.parse(JSON.parse(info.config));
  const problems: string[] = [];
  if (config.sandboxImage !== undefined && config.sandboxImage !== sandbox)
    problems.push(`sandbox image is ${config.sandboxImage}, not ${sandbox}`);
  if (config.containerd.runtimes.runc?.options?.SystemdCgroup !== true)
    problems.push('runc does not use the systemd cgroup driver');
  if (config.registry && config.registry.configPath !== CONTAINERD_PATHS.certsDir)
    problems.push(
      `registry config path is '${config.registry.configPath}', not ${CONTAINERD_PATHS.certsDir}`,
    );
  return problems;
}
