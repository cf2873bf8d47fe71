import { z } from 'zod';
import { CONTAINERD_PATHS, containerdConfig, registryHostFiles } from '../components/containerd.js';
import type { Resource } from '../engine/resources.js';
import type { Step } from '../engine/step.js';
import { render } from '../engine/template.js';
import { archOf, artifactsFor, binaryResources } from '../hostlib/artifacts.js';
import { sh } from '../transport/quote.js';

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

const criInfo = z.object({
  status: z
    .object({
      conditions: z.array(
        z.object({ type: z.string(), status: z.boolean(), message: z.string().optional() }).loose(),
      ),
    })
    .loose(),
});

export const runtime: Step = {
  id: 'runtime',
  title: 'Container runtime: containerd, runc, CNI plugins, crictl; config for the installed version',
  async preflight(ctx) {
    for (const arch of ctx.arches) await artifactsFor(ctx, arch, [...BINARIES, ...CNI_REQUIRED], OPTIONAL);
  },
  async run(ctx) {
    const { inventory } = ctx;
    // containerd's overlayfs snapshotter cannot stack on an overlayfs (a host that is itself a container).
    const { stdout } = await ctx.read([
      'sh',
      '-c',
      'uname -m; mkdir -p /var/lib/containerd; stat -fc %T /var/lib/containerd',
    ]);
    const [uname = '', fsType = ''] = stdout.trim().split('\n');
    const files = await artifactsFor(ctx, archOf(uname), [...BINARIES, ...CNI_REQUIRED], OPTIONAL);
    const version = files.get('bin/containerd')!.version;
    const snapshotter = fsType === 'overlayfs' ? 'native' : 'overlayfs';
    if (snapshotter === 'native')
      ctx.log('/var/lib/containerd is on overlayfs: using the native snapshotter');
    if (!files.has('bin/crictl'))
      ctx.log(
        'crictl is not in the artifact source: not installed (Kubernetes does not need it; debugging does)',
      );
    const binDir = inventory.artifacts.binDir;
    const binaries = [...files.values()].filter((f) => f.path.startsWith('bin/'));
    const plugins = [...files.values()].filter((f) => f.path.startsWith('cni/bin/'));
    const hostFiles = registryHostFiles(inventory);
    const resources: Resource[] = [
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
        content: containerdConfig(version, inventory, { runc: `${binDir}/runc`, snapshotter }),
      },
      ...[...hostFiles].map(([path, content]): Resource => ({ kind: 'file', path, content })),
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
    const script = [
      sh`ctr --address ${CONTAINERD_PATHS.socket} version >/dev/null || exit 3`,
      "if command -v crictl >/dev/null; then echo '@@cri'; crictl info -o json; fi",
    ].join('\n');
    const result = await ctx.conn.exec(['sh', '-c', script], { signal: ctx.signal });
    if (result.exitCode === 3)
      throw new Error(
        `containerd does not answer on ${CONTAINERD_PATHS.socket}; see journalctl -u containerd`,
      );
    if (result.exitCode !== 0)
      throw new Error(`crictl info failed: ${result.stderr.trim().split('\n').pop()}`);
    const cri = result.stdout.split('@@cri\n')[1];
    if (cri) {
      const runtimeReady = criInfo
        .parse(JSON.parse(cri))
        .status.conditions.find((c) => c.type === 'RuntimeReady');
      if (!runtimeReady?.status)
        throw new Error(`CRI runtime not ready: ${runtimeReady?.message ?? 'no RuntimeReady condition'}`);
    }
  },
};
