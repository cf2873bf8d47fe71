import { isIP } from 'node:net';
import { z } from 'zod';
import { unsafeDirectory } from './paths.js';
import { isSupportedKubernetesVersion, SUPPORTED_KUBERNETES_MINORS } from './versions.js';

/**
 * The inventory schema: the single source of truth for the inventory's shape,
 * defaults and descriptions. Cross-field rules live in rules.ts. Every string that
 * may reach a remote command is held to a narrow character set here.
 */

const DNS_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS_NAME = new RegExp(`^${DNS_LABEL}(\\.${DNS_LABEL})*$`);
const LINUX_USER = /^[a-z_][a-z0-9_-]*[$]?$/;
const ABSOLUTE_PATH = /^\/[A-Za-z0-9._/+@-]*$/;
const LOCAL_PATH = /^(~\/|\/|\.{1,2}\/)?[A-Za-z0-9._/+@ -]+$/;
const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
const REGISTRY = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]{1,5})?(\/[a-z0-9]+([._/-][a-z0-9]+)*)?$/;

export const name = z
  .string()
  .max(63)
  .regex(
    DNS_NAME,
    'must be lower-case letters, digits, "-" and ".", starting and ending with a letter or digit',
  );

const ipAddress = z.string().refine((v) => isIP(v) !== 0, 'must be an IPv4 or IPv6 address');
const hostOrIp = z.string().refine((v) => isIP(v) !== 0 || (v.length <= 253 && DNS_NAME.test(v)), {
  message: 'must be an IP address or a DNS name',
});
const port = z.number().int().min(1).max(65535);
const absolutePath = z
  .string()
  .regex(ABSOLUTE_PATH, 'must be an absolute path of letters, digits and ._/+@-');
/** A directory on the hosts that kubesmith creates, fills, moves aside or deletes. */
const ownDirectory = absolutePath.superRefine((value, ctx) => {
  const why = unsafeDirectory(value);
  if (why) ctx.addIssue({ code: 'custom', message: why });
});
const localPath = z.string().regex(LOCAL_PATH, 'must be a file path without shell metacharacters');
const httpUrl = z
  .string()
  .refine((v) => /^https?:\/\/[^\s'"`$\\;&|<>(){}]+$/.test(v) && URL.canParse(v), 'must be an http(s) URL');

export const ROLES = ['etcd', 'master', 'node'] as const;
export const NETWORK_PLUGINS = ['calico', 'flannel', 'cilium'] as const;
export const PROXY_MODES = ['ipvs', 'iptables', 'nftables'] as const;
export const HOST_KEY_POLICIES = ['strict', 'accept-new', 'off'] as const;

const cidr = z.string().regex(/^[0-9a-fA-F:.]+\/\d{1,3}$/, 'must be a CIDR such as 10.68.0.0/16');

const network = z
  .strictObject({
    plugin: z.enum(NETWORK_PLUGINS).default('calico'),
    podCidr: cidr
      .default('172.20.0.0/16')
      .describe('Pod network; must not overlap the service CIDR or any host'),
    serviceCidr: cidr
      .default('10.68.0.0/16')
      .describe('Service ClusterIP range; the API is its 1st address, DNS its 10th'),
    nodeCidrMaskSize: z.number().int().min(8).max(126).default(24),
    proxyMode: z.enum(PROXY_MODES).default('ipvs'),
    nodePortRange: z
      .string()
      .regex(/^\d{1,5}-\d{1,5}$/, 'must be LOW-HIGH, e.g. 30000-32767')
      .default('30000-32767'),
    dnsDomain: z
      .string()
      .regex(DNS_NAME, 'must be a DNS domain such as cluster.local')
      .default('cluster.local'),
    upstreamDns: z
      .array(ipAddress)
      .default([])
      .describe(
        "Where CoreDNS sends names outside the cluster; empty: the nodes' /etc/resolv.conf (answers for the cluster only if that names only loopback resolvers)",
      ),
    flannel: z
      .strictObject({
        backend: z
          .enum(['vxlan', 'host-gw'])
          .default('vxlan')
          .describe('host-gw needs every node on one L2 segment'),
      })
      .prefault({}),
    calico: z.strictObject({ backend: z.enum(['bird', 'vxlan']).default('bird') }).prefault({}),
    mtu: z
      .number()
      .int()
      .min(0)
      .max(9000)
      .default(0)
      .describe('MTU of the pod network; 0 lets the plugin work it out'),
    interface: z
      .string()
      .regex(/^([A-Za-z0-9_.:-]{1,15})?$/, 'must be a network interface name such as eth0')
      .default('')
      .describe("The host interface pod traffic uses; empty lets the plugin pick the default route's"),
  })
  .prefault({});

const cluster = z.strictObject({
  name,
  kubernetesVersion: z
    .string()
    .regex(/^\d+\.\d+\.\d+$/, 'must be a version like 1.36.3 (no leading "v")')
    .refine(
      isSupportedKubernetesVersion,
      `is not supported; kubesmith supports ${SUPPORTED_KUBERNETES_MINORS.join(', ')}`,
    )
    .default('1.36.3'),
  network,
  controlPlaneEndpoint: z
    .string()
    .refine(
      (v) => v === '' || /^(\[[0-9a-fA-F:]+\]|[a-z0-9.-]+):\d{1,5}$/.test(v),
      'must be empty or HOST:PORT',
    )
    .default('')
    .describe('VIP or DNS name:port; empty = a local L4 balancer on every node'),
  mastersSchedulable: z
    .boolean()
    .default(false)
    .describe('false: masters carry the node-role.kubernetes.io/control-plane:NoSchedule taint'),
  imageRegistry: z
    .string()
    .regex(REGISTRY, 'must be a registry host with an optional path, e.g. registry.k8s.io')
    .default('registry.k8s.io'),
  registryMirrors: z
    .record(z.string().regex(REGISTRY, 'must be a registry host such as docker.io'), z.array(httpUrl).min(1))
    .default({})
    .describe('Per upstream registry, mirror endpoints tried in order'),
  insecureRegistries: z
    .array(z.string().regex(REGISTRY, 'must be a registry host[:port] such as harbor.local:5000'))
    .default([])
    .describe('Registries reached over plain HTTP or without TLS verification'),
  certificates: z
    .strictObject({
      caValidityDays: z.number().int().min(1).max(36500).default(3650),
      certValidityDays: z.number().int().min(1).max(36500).default(365),
    })
    .prefault({}),
});

const bastion = z.strictObject({
  address: hostOrIp,
  port: port.default(22),
  user: z.string().regex(LINUX_USER, 'must be a valid user name').optional(),
  identityFile: localPath.optional(),
});

export const ssh = z
  .strictObject({
    user: z.string().regex(LINUX_USER, 'must be a valid user name').default('root'),
    port: port.default(22),
    identityFile: localPath.default('~/.ssh/id_ed25519'),
    hostKeyPolicy: z.enum(HOST_KEY_POLICIES).default('accept-new'),
    concurrency: z.number().int().min(1).max(500).default(20),
    connectTimeoutSeconds: z.number().int().min(1).max(600).default(10),
    bastion: bastion.nullable().default(null),
  })
  .prefault({});

const hostSsh = z.strictObject({
  user: z.string().regex(LINUX_USER, 'must be a valid user name').optional(),
  port: port.optional(),
  identityFile: localPath.optional(),
});

const artifacts = z
  .strictObject({
    source: z.enum(['download', 'dir']).default('download'),
    dir: localPath.nullable().default(null).describe('Bundle directory, required when source is dir'),
    mirrors: z
      .record(httpUrl, httpUrl)
      .default({})
      .describe(
        'URL prefix rewrites for the downloaded files, e.g. for mainland China; https only unless allowInsecureMirrors. Checksum files still come from the official origin unless the file is pinned (artifacts.sha256 or the catalog)',
      ),
    allowInsecureMirrors: z
      .boolean()
      .default(false)
      .describe(
        'Accept http:// mirrors (plain HTTP: anyone on the path can swap files; only files with a pinned sha256 are then safe)',
      ),
    sha256: z
      .record(
        z.string().regex(/^[A-Za-z0-9._+-]+$/, 'must be a downloaded file name'),
        z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 in lower-case hex'),
      )
      .default({})
      .describe(
        'Pinned sha256 by downloaded file name (e.g. etcd-v3.6.7-linux-amd64.tar.gz); wins over the catalog and the published checksum files',
      ),
    binDir: ownDirectory.default('/opt/kube/bin'),
    nerdctl: z
      .boolean()
      .default(false)
      .describe('Also install nerdctl (a docker-like CLI for containerd) on masters and nodes'),
  })
  .superRefine((value, ctx) => {
    if (value.allowInsecureMirrors) return;
    for (const [prefix, mirror] of Object.entries(value.mirrors)) {
      if (mirror.startsWith('http://'))
        ctx.addIssue({
          code: 'custom',
          path: ['mirrors', prefix],
          message: 'is plain http://: use https://, or set artifacts.allowInsecureMirrors: true',
        });
    }
  })
  .prefault({});

const etcd = z
  .strictObject({
    dataDir: ownDirectory.default('/var/lib/etcd'),
    walDir: z.union([z.literal(''), ownDirectory]).default(''),
    backupsToKeep: z.number().int().min(1).max(1000).default(7),
  })
  .prefault({});

const prepare = z
  .strictObject({
    ntpServers: z
      .array(hostOrIp)
      .default([])
      .describe('Time servers for chrony on every host; empty leaves time sync as it is'),
    selinuxPermissive: z
      .boolean()
      .default(true)
      .describe('Red Hat family: set SELinux permissive (now and in /etc/selinux/config)'),
    stopFirewalld: z.boolean().default(true).describe('Red Hat family: stop and disable firewalld'),
    kernelUpgrade: z
      .strictObject({
        enabled: z
          .boolean()
          .default(false)
          .describe(
            "Install the distribution's newer long-term kernel (EL: ELRepo kernel-lt; Debian: backports; Ubuntu: HWE) and reboot hosts one at a time",
          ),
        mirror: httpUrl
          .optional()
          .describe('EL: an ELRepo mirror root (the URL holding kernel/el9/...), e.g. a mirror inside China'),
        rebootTimeoutSeconds: z
          .number()
          .int()
          .min(60)
          .max(3600)
          .default(600)
          .describe('How long to wait for a rebooted host to answer SSH again'),
      })
      .prefault({}),
  })
  .prefault({});

export const DASHBOARD_KIND_NAMES = ['headlamp', 'kubernetes-dashboard'] as const;
export const DASHBOARD_ROLES = ['cluster-admin', 'view'] as const;
/** An image reference that names its registry host (with a dot, and maybe a port), as containerd pulls it. */
const IMAGE_REFERENCE =
  /^[a-z0-9-]+(\.[a-z0-9-]+)+(:[0-9]{1,5})?(\/[a-z0-9]+([._-][a-z0-9]+)*)+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$/;

const dashboardSettings = z
  .strictObject({
    enabled: z.boolean().default(false),
    kind: z
      .enum(DASHBOARD_KIND_NAMES)
      .default('headlamp')
      .describe(
        'headlamp (v0.45.0, in kube-system) or kubernetes-dashboard (v2.7.0 of 2022, the last plain-manifest release of an archived project, in its own namespace)',
      ),
    role: z
      .enum(DASHBOARD_ROLES)
      .default('cluster-admin')
      .describe(
        'The ClusterRole bound to the kubesmith-dashboard ServiceAccount whose tokens `kubesmith dashboard-token` prints',
      ),
    image: z
      .string()
      .regex(
        IMAGE_REFERENCE,
        'must be an image reference naming its registry, e.g. harbor.local/headlamp:v0.45.0',
      )
      .optional()
      .describe("The dashboard's image, in place of upstream's (pulled as written)"),
    version: z
      .string()
      .regex(/^\d+\.\d+\.\d+$/, 'must be a version like 0.45.0 (no leading "v")')
      .optional()
      .describe("Upstream's image at this tag (v<version>), with the manifest kubesmith carries"),
  })
  .superRefine((value, ctx) => {
    if (value.image && value.version)
      ctx.addIssue({
        code: 'custom',
        path: ['version'],
        message: "set either image (a whole reference) or version (a tag of upstream's image), not both",
      });
  });

const addons = z
  .strictObject({
    coredns: z.boolean().default(true),
    nodeLocalDns: z.boolean().default(true),
    metricsServer: z.boolean().default(true),
    dashboard: z
      .preprocess((value) => (typeof value === 'boolean' ? { enabled: value } : value), dashboardSettings)
      .prefault({})
      .describe('A web UI, off by default; true/false are short for { enabled: true/false }'),
  })
  .prefault({});

const RESOURCE_QUANTITY = /^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/;
const resourceMap = z.partialRecord(
  z.enum(['cpu', 'memory', 'ephemeral-storage', 'pid']),
  z.string().regex(RESOURCE_QUANTITY, 'must be a quantity such as 100m or 256Mi'),
);

const kubelet = z
  .strictObject({
    maxPods: z.number().int().min(10).max(1000).default(110),
    systemReserved: resourceMap.default({ cpu: '100m', memory: '256Mi' }),
    kubeReserved: resourceMap.default({ cpu: '100m', memory: '256Mi' }),
    evictionHard: z
      .partialRecord(
        z.enum([
          'memory.available',
          'nodefs.available',
          'nodefs.inodesFree',
          'imagefs.available',
          'imagefs.inodesFree',
          'pid.available',
        ]),
        z.string().regex(/^([0-9]+(\.[0-9]+)?%|[0-9]+(Ki|Mi|Gi)?)$/, 'must be a percentage or a quantity'),
      )
      .default({
        'memory.available': '100Mi',
        'nodefs.available': '10%',
        'nodefs.inodesFree': '5%',
        'imagefs.available': '15%',
      }),
  })
  .prefault({});

const taint = z.strictObject({
  key: z.string().regex(LABEL_KEY, 'must be a Kubernetes taint key'),
  value: z.string().regex(LABEL_VALUE, 'must be a Kubernetes label value').optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
});

export const host = z.strictObject({
  name,
  address: ipAddress,
  roles: z
    .array(z.enum(ROLES))
    .min(1, 'needs at least one role (etcd, master, node)')
    .refine((r) => new Set(r).size === r.length, 'lists a role twice'),
  labels: z
    .record(
      z.string().regex(LABEL_KEY, 'must be a Kubernetes label key'),
      z.string().regex(LABEL_VALUE, 'must be a Kubernetes label value'),
    )
    .default({}),
  taints: z
    .array(taint)
    .default([])
    .describe(
      'Taints set on the node (masters also get the control-plane taint unless cluster.mastersSchedulable)',
    ),
  ssh: hostSsh.optional(),
});

export const inventorySchema = z.strictObject({
  cluster,
  ssh,
  artifacts,
  etcd,
  prepare,
  addons,
  kubelet,
  hosts: z.array(host).min(1, 'lists no hosts'),
});

export type Inventory = z.output<typeof inventorySchema>;
export type InventoryInput = z.input<typeof inventorySchema>;
export type HostSpec = z.output<typeof host>;
export type Role = (typeof ROLES)[number];
