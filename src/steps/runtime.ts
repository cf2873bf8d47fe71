import {
  CONTAINERD_PATHS,
  canLowerOomScore,
  configuredRegistries,
  containerdConfig,
  criConfigProblems,
  registryHostFiles,
  sandboxImage,
  snapshotterFor,
  staleRegistryCleanup,
} from '../components/containerd.js';
import { withCri } from '../cri/runtime.js';
import type { Resource } from '../engine/resources.js';
import type { Step } from '../engine/step.js';
import { render } from '../engine/template.js';
import { archOf, artifactsFor, binaryResources, imagesFor } from '../hostlib/artifacts.js';
import { clusterMarker } from '../hostlib/marker.js';

const BINARIES = ['bin/containerd', 'bin/containerd-shim-runc-v2', 'bin/ctr', 'bin/runc'];
const CNI_REQUIRED = ['bridge', 'host-local', 'loopback', 'portmap'].map((p) => `cni/bin/${p}`);
const CNI_OPTIONAL = [
  'bandwidth',
  'tuning',
  'firewall',
  'host-device',
  'macvlan',
  'ipvlan',
  'ptp',
  'vlan',
  'sbr',
  'static',
  'vrf',
  'dhcp',
].map((p) => `cni/bin/${p}`);
const OPTIONAL = ['bin/crictl', ...CNI_OPTIONAL];
const optionalFor = (ctx: { inventory: { artifacts: { nerdctl: boolean } } }) =>
  ctx.inventory.artifacts.nerdctl ? [...OPTIONAL, 'bin/nerdctl'] : OPTIONAL;

export const runtime: Step = {
  id: 'runtime',
  title: 'Container runtime: containerd, runc, CNI plugins, crictl; config for the installed version',
  async preflight(ctx) {
    for (const arch of ctx.arches)
      await artifactsFor(ctx, arch, [...BINARIES, ...CNI_REQUIRED], optionalFor(ctx));
  },
  async run(ctx) {
    const { inventory } = ctx;
    // containerd's overlayfs snapshotter cannot stack on an overlayfs (a host that is itself a container).
    const { stdout } = await ctx.read([
      'sh',
      '-c',
      "uname -m; mkdir -p /var/lib/containerd; stat -fc %T /var/lib/containerd; awk '/^CapBnd:/ {print $2}' /proc/self/status",
    ]);
    const [uname = '', fsType = '', capBnd = ''] = stdout.trim().split('\n');
    const files = await artifactsFor(ctx, archOf(uname), [...BINARIES, ...CNI_REQUIRED], optionalFor(ctx));
    const version = files.get('bin/containerd')!.version;
    const snapshotter = snapshotterFor(fsType);
    if (snapshotter === 'native')
      ctx.log('/var/lib/containerd is on overlayfs: using the native snapshotter');
    if (!canLowerOomScore(capBnd))
      ctx.log('root here cannot lower OOM scores (no CAP_SYS_RESOURCE): containerd keeps them at its own');
    if (inventory.artifacts.nerdctl && !files.has('bin/nerdctl'))
      ctx.log('artifacts.nerdctl: nerdctl is not in the artifact source; not installed');
    if (!files.has('bin/crictl'))
      ctx.log(
        'crictl is not in the artifact source: not installed (Kubernetes does not need it; debugging does)',
      );
    const binDir = inventory.artifacts.binDir;
    const binaries = [...files.values()].filter((f) => f.path.startsWith('bin/'));
    const plugins = [...files.values()].filter((f) => f.path.startsWith('cni/bin/'));
    const hostFiles = registryHostFiles(inventory);
    const resources: Resource[] = [
      clusterMarker(ctx.inventory),
      ...binaryResources(ctx, binaries),
      { kind: 'directory', path: CONTAINERD_PATHS.cniBinDir, mode: 0o755 },
      ...plugins.map(
        (p): Resource => ({
          kind: 'file',
          path: `${CONTAINERD_PATHS.cniBinDir}/${p.path.split('/').pop()}`,
          content: { localPath: p.localPath, sha256: p.sha256 },
          mode: 0o755,
        }),
      ),
      { kind: 'directory', path: '/etc/cni/net.d', mode: 0o755 },
      {
        kind: 'file',
        path: CONTAINERD_PATHS.config,
        content: containerdConfig(version, {
          runc: `${binDir}/runc`,
          snapshotter,
          sandboxImage: sandboxImage(inventory, await imagesFor(ctx)),
          restrictOomScoreAdj: !canLowerOomScore(capBnd),
        }),
      },
      ...[...hostFiles].map(([path, content]): Resource => ({ kind: 'file', path, content })),
      // A registry dropped from the inventory must not keep its hosts.toml (skip_verify, mirrors).
      staleRegistryCleanup(configuredRegistries(inventory)),
      { kind: 'file', path: CONTAINERD_PATHS.crictl, content: render('containerd/crictl.yaml', {}) },
      {
        kind: 'file',
        path: CONTAINERD_PATHS.unit,
        content: render('containerd/containerd.service', { binary: `${binDir}/containerd`, binDir }),
      },
      {
        kind: 'service',
        name: 'containerd',
        enabled: true,
        state: 'started',
        // hosts.toml files are read per pull: changing a mirror needs no restart.
        restartOn: [
          CONTAINERD_PATHS.config,
          CONTAINERD_PATHS.unit,
          `${binDir}/containerd`,
          `${binDir}/containerd-shim-runc-v2`,
        ],
      },
    ];
    await ctx.apply(resources);
  },
  async verify(ctx) {
    const wanted = sandboxImage(ctx.inventory, await imagesFor(ctx));
    await withCri(ctx.conn, CONTAINERD_PATHS.socket, async (cri) => {
      const version = await cri.version();
      const status = await cri.status();
      const runtimeReady = status.conditions.find((c) => c.type === 'RuntimeReady');
      if (!runtimeReady?.status)
        throw new Error(`CRI runtime not ready: ${runtimeReady?.message || 'no RuntimeReady condition'}`);
      const problems = criConfigProblems(status.info, wanted);
      if (problems.length)
        throw new Error(
          `containerd runs with another config than ${CONTAINERD_PATHS.config}: ${problems.join('; ')}; restart containerd`,
        );
      const network = status.conditions.find((c) => c.type === 'NetworkReady');
      ctx.log(
        `CRI answers: ${version.runtimeName} ${version.runtimeVersion} (API ${version.runtimeApiVersion}), runtime ready` +
          (network?.status
            ? ', network ready'
            : '; network not ready until a CNI plugin is installed (step 06)'),
      );
    });
  },
};
