import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import {
  canLowerOomScore,
  containerdConfig,
  registryHostFiles,
  sandboxImage,
} from '../../../src/components/containerd.js';
import { inventorySchema } from '../../../src/inventory/schema.js';
import { skipWithout } from '../../helpers/prerequisite.js';
import { readTable, referenceMissing } from './reference.js';

const inventory = inventorySchema.parse({
  cluster: {
    name: 'c',
    imageRegistry: 'registry.aliyuncs.com/google_containers',
    registryMirrors: { 'docker.io': ['https://mirror.example'] },
    insecureRegistries: ['harbor.local:5000'],
  },
  hosts: [{ name: 'm1', address: '10.0.0.1', roles: ['etcd', 'master'] }],
});

/** Dotted TOML key paths of a parsed document, quoting segments with dots as containerd's docs do. */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => {
    const segment = k.includes('.') ? `"${k}"` : k;
    const path = prefix ? `${prefix}.${segment}` : segment;
    return v && typeof v === 'object' && !Array.isArray(v) ? [path, ...keyPaths(v, path)] : [path];
  });
}

const options = {
  runc: '/opt/kube/bin/runc',
  snapshotter: 'overlayfs',
  sandboxImage: 'registry.k8s.io/pause:3.10.1',
};

describe.skipIf(skipWithout('containerd config contract', referenceMissing))(
  'containerd config against the upstream key lists',
  () => {
    it.each([
      ['1.6.20', 'config-v2.keys'],
      ['1.7.28', 'config-v2.keys'],
      ['2.0.6', 'config-v3.keys'],
      ['2.2.0', 'config-v3.keys'],
    ])('containerd %s: every key exists in %s and none is deprecated', (version, keys) => {
      const known = new Set(readTable(`containerd/${keys}`).map(([path = '']) => path));
      const deprecated = new Set(
        readTable('containerd/deprecated.tsv')
          .filter(([, , status]) => status === 'deprecated')
          .map(([path = '']) => path),
      );
      const config = parse(containerdConfig(version, options));
      for (const path of keyPaths(config)) {
        expect(known.has(path), `${path} (containerd ${version})`).toBe(true);
        if (version !== '2.0.6') expect(deprecated.has(path), `${path} is deprecated`).toBe(false);
      }
    });
  },
);

describe('containerd config', () => {
  it("uses systemd cgroups and the pause image from imageRegistry, or the bundle's own", () => {
    const v2 = parse(
      containerdConfig('1.6.20', { ...options, sandboxImage: sandboxImage(inventory) }),
    ) as Record<string, Record<string, Record<string, unknown>>>;
    const cri = v2.plugins?.['io.containerd.grpc.v1.cri'] as {
      sandbox_image: string;
      containerd: { runtimes: { runc: { options: { SystemdCgroup: boolean } } } };
    };
    expect(cri.sandbox_image).toBe('registry.aliyuncs.com/google_containers/pause:3.10.1');
    expect(cri.containerd.runtimes.runc.options.SystemdCgroup).toBe(true);
    expect(containerdConfig('2.2.0', options)).toContain('bin_dirs = ["/opt/cni/bin"]');
    expect(containerdConfig('2.0.6', options)).toContain('bin_dir = "/opt/cni/bin"');
    expect(sandboxImage(inventory)).toMatch(/\/pause:/);
    const bundled = [
      { name: 'registry.k8s.io/e2e-test-images/agnhost:2.56' },
      { name: 'registry.k8s.io/pause:3.10.1' },
    ];
    expect(sandboxImage(inventory, bundled)).toBe('registry.k8s.io/pause:3.10.1');
  });

  it('restricts OOM scores only where root lacks CAP_SYS_RESOURCE', () => {
    expect(canLowerOomScore('000001ffffffffff')).toBe(true);
    expect(canLowerOomScore('000001fffeffffff')).toBe(false);
    expect(canLowerOomScore('')).toBe(false);
    expect(containerdConfig('2.2.0', { ...options, restrictOomScoreAdj: true })).toContain(
      'restrict_oom_score_adj = true',
    );
    expect(containerdConfig('2.2.0', options)).not.toContain('restrict_oom_score_adj');
  });

  it('writes hosts.toml for mirrors and insecure registries', () => {
    const files = registryHostFiles(inventory);
    expect([...files.keys()]).toEqual([
      '/etc/containerd/certs.d/docker.io/hosts.toml',
      '/etc/containerd/certs.d/harbor.local:5000/hosts.toml',
    ]);
    const docker = parse(files.get('/etc/containerd/certs.d/docker.io/hosts.toml')!) as {
      server: string;
      host: Record<string, { capabilities: string[] }>;
    };
    expect(docker.server).toBe('https://registry-1.docker.io');
    expect(docker.host['https://mirror.example']?.capabilities).toEqual(['pull', 'resolve']);
    const harbor = parse(files.get('/etc/containerd/certs.d/harbor.local:5000/hosts.toml')!) as {
      server: string;
      host: Record<string, { skip_verify?: boolean }>;
    };
    expect(harbor.server).toBe('http://harbor.local:5000');
    expect(harbor.host['http://harbor.local:5000']?.skip_verify).toBe(true);
  });
});
