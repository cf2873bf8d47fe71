import { join } from 'node:path';
import type { z } from 'zod';
import {
  type Bootstrap,
  CLIENT_PORT,
  clientEndpoints,
  ETCD_PATHS,
  etcdctl,
  etcdFlags,
  etcdMembers,
  PEER_PORT,
  waitHealthyScript,
} from '../components/etcd.js';
import type { Resource, ServiceResource } from '../engine/resources.js';
import { once, oneAtATime } from '../engine/shared.js';
import type { RunContext, Step, StepContext } from '../engine/step.js';
import { render } from '../engine/template.js';
import { OperationError } from '../errors.js';
import {
  healthByMember,
  healthSchema,
  memberHealth,
  memberListSchema,
  parseEtcdJson,
  peerUrl,
  readEtcdJson,
} from '../etcd/ops.js';
import { archOf, artifactsFor, binaryResources } from '../hostlib/artifacts.js';
import { clusterMarker } from '../hostlib/marker.js';
import { sectionedRead } from '../hostlib/sections.js';
import { hostUrl } from '../inventory/net.js';
import type { Inventory } from '../inventory/schema.js';
import { CA, cas, ETCD_KUBESMITH_CLIENT, etcdCerts, etcdPeerCert, etcdServerCert } from '../pki/spec.js';
import { ensurePki } from '../pki/store.js';
import { sh } from '../transport/quote.js';

const BINARIES = ['bin/etcd', 'bin/etcdctl'];
const OPTIONAL = ['bin/etcdutl'];

function pkiFor(ctx: RunContext) {
  return once(ctx.shared, 'pki:etcd', async () => {
    const pki = await ensurePki(
      join(ctx.clusterDir, 'pki'),
      [...cas(ctx.inventory), ...etcdCerts(ctx.inventory)],
      { persist: !ctx.dryRun },
    );
    for (const change of pki.changes)
      ctx.log(
        `pki: ${change.action} ${change.id} (${change.reason})${ctx.dryRun ? ' [dry run: not written]' : ''}`,
      );
    return pki;
  });
}

export const etcd: Step = {
  id: 'etcd',
  title: 'etcd cluster: binaries, TLS certificates, systemd unit, members started together',
  allHostsAtOnce: true,
  async preflight(ctx) {
    for (const arch of ctx.arches) await artifactsFor(ctx, arch, BINARIES, OPTIONAL);
    await pkiFor(ctx);
  },
  async run(ctx) {
    const { host, inventory } = ctx;
    const reading = memberReading(inventory);
    const seen = reading.parse((await ctx.read(['sh', '-c', reading.script])).stdout);
    const uname = seen.uname;
    const files = await artifactsFor(ctx, archOf(uname), BINARIES, OPTIONAL);
    const version = files.get('bin/etcd')!.version;
    const pki = await pkiFor(ctx);
    const pair = (id: string) => pki.get(id);
    const certFile = (path: string, content: string, secret = false): Resource => ({
      kind: 'file',
      path,
      content,
      mode: secret ? 0o600 : 0o644,
    });
    const unit = render('etcd/etcd.service', {
      member: host.name,
      cluster: inventory.cluster.name,
      version,
      binary: `${inventory.artifacts.binDir}/etcd`,
      flagLines: etcdFlags(version, host, inventory, joining(ctx)?.get(host.name)).map((flag, i, all) =>
        i < all.length - 1 ? `${flag} \\` : flag,
      ),
    });
    const secrets = [
      ETCD_PATHS.serverKey,
      ETCD_PATHS.peerKey,
      ETCD_PATHS.serverCert,
      ETCD_PATHS.peerCert,
      ETCD_PATHS.ca,
    ];
    const resources: Resource[] = [
      clusterMarker(ctx.inventory),
      ...binaryResources(ctx, files.values()),
      { kind: 'directory', path: ETCD_PATHS.pki, mode: 0o700 },
      certFile(ETCD_PATHS.ca, pki.trust(CA.etcd)),
      certFile(ETCD_PATHS.serverCert, pair(etcdServerCert(host.name)).certPem),
      certFile(ETCD_PATHS.serverKey, pair(etcdServerCert(host.name)).keyPem, true),
      certFile(ETCD_PATHS.peerCert, pair(etcdPeerCert(host.name)).certPem),
      certFile(ETCD_PATHS.peerKey, pair(etcdPeerCert(host.name)).keyPem, true),
      certFile(ETCD_PATHS.clientCert, pair(ETCD_KUBESMITH_CLIENT).certPem),
      certFile(ETCD_PATHS.clientKey, pair(ETCD_KUBESMITH_CLIENT).keyPem, true),
      { kind: 'directory', path: inventory.etcd.dataDir, mode: 0o700 },
      ...(inventory.etcd.walDir
        ? [{ kind: 'directory', path: inventory.etcd.walDir, mode: 0o700 } as const]
        : []),
      { kind: 'file', path: ETCD_PATHS.unit, content: unit },
    ];
    const service = (first: boolean): ServiceResource => ({
      kind: 'service',
      name: 'etcd',
      enabled: true,
      state: 'started',
      restartOn: [ETCD_PATHS.unit, ...secrets],
      noBlock: first,
    });
    if ((joining(ctx)?.has(host.name) && !seen.active) || !clusterRunning(seen)) {
      // A new cluster: every member starts at once (a lone member waits for quorum), then each waits for health.
      // A member joining a running cluster (add-etcd) starts the same way, as a learner.
      const results = await ctx.apply([...resources, service(true)]);
      if (!ctx.dryRun && results.some((r) => r.status === 'changed')) await waitHealthy(ctx);
      return;
    }
    // A running cluster: members restart one at a time, each healthy before the next, so quorum holds.
    // A member that is down takes its turn too (it is started, not bootstrapped beside the others).
    // A failed turn stops the others; a restart waits for every other member to be healthy.
    await oneAtATime(ctx.shared, 'etcd-restart', host.name, async () => {
      const results = await ctx.apply([
        ...resources,
        { ...service(false), beforeRestart: () => othersHealthy(ctx) },
      ]);
      if (!ctx.dryRun && results.some((r) => r.kind === 'service' && r.status === 'changed'))
        await waitHealthy(ctx);
    });
  },
  async verify(ctx) {
    // A member joining a running cluster is checked by the join itself (health, then promotion).
    if (!ctx.host.roles.includes('etcd') || joining(ctx)?.has(ctx.host.name)) return;
    const endpoints = clientEndpoints(ctx.inventory);
    const read = sectionedRead([
      ['health', sh`${etcdctl(endpoints, 'endpoint', 'health', '-w', 'json')} 2>/dev/null || true`],
      ['members', sh`${etcdctl(endpoints, 'member', 'list', '-w', 'json')}`],
    ]);
    const sections = read.parse((await ctx.read(['sh', '-c', read.script])).stdout);
    const wanted = etcdMembers(ctx.inventory);
    const health = healthByMember(
      readEtcdJson(healthSchema, sections.get('health')?.trim() || '[]', 'endpoint health'),
      wanted,
    );
    const sick = wanted.filter((m) => !health.get(m.name));
    if (sick.length)
      throw new Error(
        `etcd members not healthy: ${sick.map((m) => hostUrl('https', m.address, CLIENT_PORT)).join(', ')}; see journalctl -u etcd on them`,
      );
    const members = readEtcdJson(memberListSchema, sections.get('members') ?? '', 'the member list').members;
    const want = wanted.map((m) => `${m.name} ${peerUrl(m)}`).sort();
    const have = members.map((m) => `${m.name} ${m.peerURLs.join(',')}`).sort();
    if (want.join('\n') !== have.join('\n')) {
      throw new Error(
        `etcd member list differs from the inventory: has [${have.join('; ')}], inventory wants [${want.join('; ')}]`,
      );
    }
    ctx.log(`etcd healthy: ${members.length} members, client port ${CLIENT_PORT}`);
  },
};

/** Members joining a running cluster (add-etcd): their initial cluster is the membership at join time. */
export const JOINING = 'etcd:joining';

function joining(ctx: RunContext): Map<string, Bootstrap> | undefined {
  return ctx.shared.get(JOINING) as Map<string, Bootstrap> | undefined;
}

/** What a member's read says: its architecture, whether its etcd runs, which members answer healthy from it. */
export interface MemberReading {
  uname: string;
  active: boolean;
  /** Members (names) that answered the health read; empty where etcdctl is not installed yet. */
  healthy: string[];
}

/**
 * One command: uname, this member's state, and (where etcdctl and the client certificate are
 * already installed) every member's health, which says whether the cluster runs.
 */
export function memberReading(inventory: Inventory): {
  script: string;
  parse(stdout: string): MemberReading;
} {
  const health = etcdctl(clientEndpoints(inventory), 'endpoint', 'health', '-w', 'json');
  const read = sectionedRead([
    ['uname', 'uname -m'],
    ['active', 'systemctl is-active etcd.service || true'],
    [
      'health',
      sh`if command -v etcdctl >/dev/null 2>&1 && [ -r ${ETCD_PATHS.clientKey} ]; then ${health} 2>/dev/null; fi; true`,
    ],
  ]);
  return {
    script: read.script,
    parse(stdout) {
      const sections = read.parse(stdout);
      let health: z.output<typeof healthSchema> = [];
      try {
        health = healthSchema.parse(parseEtcdJson(sections.get('health')?.trim() || '[]'));
      } catch {
        health = [];
      }
      const healthy = [...healthByMember(health, etcdMembers(inventory))].filter(([, ok]) => ok);
      return {
        uname: sections.get('uname')?.trim() ?? '',
        active: sections.get('active')?.trim() === 'active',
        healthy: healthy.map(([name]) => name),
      };
    },
  };
}

/**
 * Whether the cluster (not this member) runs: this member is active or any member answers.
 * A member found down while the others serve must take its turn in the rolling restart, not
 * start beside them as if the cluster were new.
 */
export function clusterRunning(reading: MemberReading): boolean {
  return reading.active || reading.healthy.length > 0;
}

/** The members other than `self` that are not healthy. */
export function unhealthyOthers(
  inventory: Inventory,
  self: string,
  health: ReadonlyMap<string, boolean>,
): string[] {
  return etcdMembers(inventory)
    .filter((m) => m.name !== self && health.get(m.name) !== true)
    .map((m) => m.name);
}

/** Refuses a member's restart unless every other member is healthy at that moment (quorum must hold). */
async function othersHealthy(ctx: StepContext): Promise<void> {
  const health = await memberHealth(ctx.conn, ctx.inventory, ctx.signal);
  const sick = unhealthyOthers(ctx.inventory, ctx.host.name, health);
  if (sick.length)
    throw new OperationError(
      `${ctx.host.name}: not restarted: etcd members ${sick.join(', ')} are not healthy, and restarting ${ctx.host.name} now could lose quorum`,
      'bring them back first (journalctl -u etcd on them), then re-run',
    );
}

async function waitHealthy(ctx: StepContext): Promise<void> {
  const learner = joining(ctx)?.has(ctx.host.name) ?? false;
  const result = await ctx.conn.exec(['sh', '-c', waitHealthyScript(90, learner)], { signal: ctx.signal });
  if (result.exitCode !== 0) {
    throw new Error(
      `etcd on ${ctx.host.name} did not become healthy within 90 s; see journalctl -u etcd (peer port ${PEER_PORT} must be reachable from the other members)`,
    );
  }
}
