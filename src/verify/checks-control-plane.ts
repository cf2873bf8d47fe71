import { z } from 'zod';
import { needsLocalBalancer } from '../components/kubernetes/haproxy.js';
import type { Inventory } from '../inventory/schema.js';
import { type HostProbe, isKubeHost, splitHttp } from './host-probes.js';
import { type Check, worst } from './report.js';

/** A leader that has not renewed its lease for this long is taken as gone (leases last 15 s). */
const LEASE_STALE_MS = 60_000;

const leaseSchema = z
  .object({
    metadata: z.object({ name: z.string() }).loose(),
    spec: z
      .object({ holderIdentity: z.string().optional(), renewTime: z.string().optional() })
      .loose()
      .prefault({}),
  })
  .loose();

const sectionOf = (probe: HostProbe | undefined, name: string) => probe?.sections?.[name];

/** readyz?verbose lists one check per line, `[-]` for those failing. */
const failingReadyzChecks = (body: string) =>
  body
    .split('\n')
    .filter((l) => l.startsWith('[-]'))
    .map((l) => l.slice(3).trim());

function endpointCheck(id: string, what: string, section: string, probes: HostProbe[], hint: string): Check {
  const evidence: string[] = [];
  const failing: string[] = [];
  for (const probe of probes) {
    if (probe.error) {
      failing.push(probe.host);
      evidence.push(`${probe.host}: not asked (${probe.error})`);
      continue;
    }
    const { status, body } = splitHttp(sectionOf(probe, section));
    if (status === 200) evidence.push(`${probe.host}: 200`);
    else {
      failing.push(probe.host);
      const checks = failingReadyzChecks(body);
      const why = checks.length ? checks.join('; ') : body.trim().split('\n')[0] || 'no answer';
      evidence.push(`${probe.host}: ${status || 'no answer'}${status ? ` ${why}` : ''}`);
    }
  }
  return {
    id,
    area: 'control-plane',
    status: failing.length ? 'fail' : 'ok',
    summary: failing.length
      ? `${what} not healthy on ${failing.join(', ')}`
      : `${what} healthy on ${probes.length} host(s)`,
    evidence,
    ...(failing.length ? { hint } : {}),
  };
}

function leaseCheck(leases: unknown[], now: Date): Check {
  const evidence: string[] = [];
  const statuses = ['kube-controller-manager', 'kube-scheduler'].map((name) => {
    const found = leases
      .map((l) => leaseSchema.safeParse(l))
      .find((l) => l.data?.metadata.name === name)?.data;
    const holder = found?.spec.holderIdentity ?? '';
    const renewed = found?.spec.renewTime ? Date.parse(found.spec.renewTime) : Number.NaN;
    const age = now.getTime() - renewed;
    // The holder is `<the machine's hostname>_<uuid>`: the hostname need not be the inventory name.
    const holderHost = holder.split('_')[0] ?? '';
    if (!found || !holder) {
      evidence.push(`${name}: no leader`);
      return 'fail';
    }
    evidence.push(
      `${name}: held by ${holderHost}, renewed ${Number.isNaN(age) ? 'never' : `${Math.round(age / 1000)} s ago`}`,
    );
    if (Number.isNaN(age) || age > LEASE_STALE_MS) return 'fail';
    return 'ok';
  });
  const status = worst(statuses);
  return {
    id: 'control-plane/leases',
    area: 'control-plane',
    status,
    summary:
      status === 'ok' ? 'controller-manager and scheduler leaders elected and renewing' : evidence.join('; '),
    evidence,
    ...(status !== 'ok'
      ? {
          hint: 'journalctl -u kube-controller-manager / kube-scheduler on the masters says why no one leads',
        }
      : {}),
  };
}

/** Every apiserver ready, controller-manager and scheduler healthy, leaders renewing, every local balancer answering. */
export function controlPlaneChecks(
  probes: HostProbe[],
  leases: unknown[] | undefined,
  inv: Inventory,
  now: Date,
): Check[] {
  const masters = inv.hosts.filter((h) => h.roles.includes('master')).map((h) => h.name);
  const of = (names: string[]) => probes.filter((p) => names.includes(p.host));
  const journal = (unit: string) => `on that master: journalctl -u ${unit} -n 50`;
  const checks = [
    endpointCheck(
      'control-plane/apiserver',
      'kube-apiserver /readyz',
      'readyz',
      of(masters),
      journal('kube-apiserver'),
    ),
    endpointCheck(
      'control-plane/controller-manager',
      'kube-controller-manager /healthz',
      'controllermanager',
      of(masters),
      journal('kube-controller-manager'),
    ),
    endpointCheck(
      'control-plane/scheduler',
      'kube-scheduler /healthz',
      'scheduler',
      of(masters),
      journal('kube-scheduler'),
    ),
  ];
  if (leases) checks.push(leaseCheck(leases, now));
  if (needsLocalBalancer(inv))
    checks.push(
      endpointCheck(
        'control-plane/local-balancer',
        'the local balancer (127.0.0.1:6443)',
        'balancer',
        of(inv.hosts.filter(isKubeHost).map((h) => h.name)),
        'on that host: systemctl status haproxy; journalctl -u haproxy -n 50',
      ),
    );
  return checks;
}
