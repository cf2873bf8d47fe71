import { expect, it } from 'vitest';
import { z } from 'zod';
import { kubesmith, type labShell } from '../harness.js';

const LOOP_DIR = '/run/kubesmith-certs-e2e';

const rowsSchema = z.object({
  rows: z.array(
    z.object({
      host: z.string(),
      file: z.string(),
      id: z.string(),
      issuer: z.string().optional(),
      subject: z.string().optional(),
      serial: z.string().optional(),
      notBefore: z.string().optional(),
      daysLeft: z.number().optional(),
      status: z.enum(['ok', 'warn', 'fail']),
      notes: z.array(z.string()),
    }),
  ),
});
type Row = z.output<typeof rowsSchema>['rows'][number];
const isCa = (r: Row) => r.subject === r.issuer;

/**
 * Requests through a host's local balancer every 200 ms until told to stop: GET /version on every
 * host (not /readyz: an apiserver told to stop answers its own /readyz 500 on purpose, so that
 * balancers take it out, while it still serves), and on masters an authenticated GET with admin.conf. Counts go to LOOP_DIR/count, failures
 * (with the time and curl's/kubectl's words) to LOOP_DIR/failures.
 */
function loopScript(master: boolean): string {
  const version =
    'curl -sS --max-time 5 --fail --cacert /etc/kubernetes/pki/ca.crt https://127.0.0.1:6443/version';
  const authed =
    'kubectl --kubeconfig /etc/kubernetes/admin.conf --server https://127.0.0.1:6443 --request-timeout=5s get --raw /api/v1/namespaces/kube-system';
  const ask = master ? `${version} && ${authed}` : version;
  return [
    `mkdir -p ${LOOP_DIR}; rm -f ${LOOP_DIR}/*; ok=0; bad=0`,
    `while [ ! -e ${LOOP_DIR}/stop ]; do`,
    `  if out=$( { ${ask}; } 2>&1 >/dev/null); then ok=$((ok+1)); else bad=$((bad+1)); echo "$(date +%T.%N) $out" >> ${LOOP_DIR}/failures; fi`,
    `  echo "$ok $bad" > ${LOOP_DIR}/count; sleep 0.2`,
    'done',
  ].join('\n');
}

/** host-start/host-end of a step never overlap: its hosts took turns. */
function oneHostAtATime(events: { type: string; step?: string; host?: string }[], step: string): string[] {
  const order: string[] = [];
  let running: string | undefined;
  for (const e of events.filter((e) => e.step === step)) {
    if (e.type === 'host-start') {
      expect(running, `${step}: ${e.host} started while ${running} was still running`).toBeUndefined();
      running = e.host;
      order.push(e.host!);
    }
    if (e.type === 'host-end') running = undefined;
  }
  return order;
}

/**
 * `kubesmith certs check` and `certs renew` (leaf) on a set-up lab cluster: bad input refused
 * before any host is touched; the expiry table of every host; a renewal rolled out one host at a
 * time while every host's local balancer keeps answering; afterwards new serials and notBefore
 * on every leaf of every host, the CAs unchanged, and a healthy cluster (verify).
 * Declares its tests in the caller's describe; the cluster must be set up (setup all) by then.
 */
export function certsTests(
  lab: string,
  shell: ReturnType<typeof labShell>,
  masters: number[],
  all: number[],
): void {
  let before: Row[] = [];
  const check = async () => {
    const run = await kubesmith('certs', 'check', lab, '-o', 'json');
    const line = run.stdout.split('\n').find((l) => l.startsWith('{"type":"result"'));
    expect(line, run.all).toBeDefined();
    return { run, rows: rowsSchema.parse(JSON.parse(line!)).rows };
  };
  const key = (r: Row) => `${r.host} ${r.file}`;

  it('certs check: every certificate of every host, read from the hosts, ok and equal to the deploy machine copies', async () => {
    const { run, rows } = await check();
    expect(run.exitCode, run.all).toBe(0);
    expect(rows.filter((r) => r.status !== 'ok')).toEqual([]);
    // Per master (an etcd member): 4 etcd + 1 CA + 9 control plane + 3 node; per node: 1 CA + 3 node.
    for (const i of all)
      expect(
        rows.filter((r) => r.host === `${lab}-${i + 1}`),
        `${lab}-${i + 1}`,
      ).toHaveLength(masters.includes(i) ? 17 : 4);
    const table = await kubesmith('certs', 'check', lab);
    expect(table.stdout).toMatch(/HOST +FILE +SUBJECT +ISSUER +NOT AFTER +DAYS/);
    expect(table.all).not.toContain('PRIVATE KEY');
    before = rows;
  });

  it('certs renew refuses --ca, and a run without --yes off a terminal, before any host is touched', async () => {
    const ca = await kubesmith('certs', 'renew', lab, '--ca', '--yes');
    expect(ca.exitCode, ca.all).toBe(2);
    expect(ca.stderr).toMatch(/--ca .* not implemented yet/);
    const unconfirmed = await kubesmith('certs', 'renew', lab);
    expect(unconfirmed.exitCode, unconfirmed.all).toBe(2);
    expect(unconfirmed.stderr).toMatch(/certs renew plan for cluster/);
    expect(unconfirmed.stderr).toMatch(/re-run with --yes/);
    const missing = await kubesmith('certs', 'renew', 'no-such-cluster', '--yes');
    expect(missing.exitCode).toBe(2);
    const { rows } = await check();
    expect(rows.map((r) => `${key(r)} ${r.serial}`)).toEqual(before.map((r) => `${key(r)} ${r.serial}`));
  });

  it('certs renew (leaf) one host at a time, the API answering through every local balancer throughout', async () => {
    for (const i of all)
      await shell.run(i, `nohup sh -c '${loopScript(masters.includes(i))}' </dev/null >/dev/null 2>&1 &`);
    const started = Date.now();
    const renew = await kubesmith('certs', 'renew', lab, '--yes', '-o', 'json');
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    const counts = await Promise.all(
      all.map(async (i) => {
        await shell.run(i, `touch ${LOOP_DIR}/stop; sleep 1`);
        const [ok, bad] = (await shell.run(i, `cat ${LOOP_DIR}/count`)).trim().split(' ').map(Number);
        const failures = await shell.run(i, `cat ${LOOP_DIR}/failures 2>/dev/null || true`);
        return { host: `${lab}-${i + 1}`, ok: ok!, bad: bad!, failures };
      }),
    );
    console.log(`certs renew took ${seconds} s; requests per host:`, counts);
    expect(renew.exitCode, renew.all).toBe(0);
    for (const c of counts) {
      expect(c.ok, c.host).toBeGreaterThan(50);
      expect(c.bad, `${c.host}: ${c.failures}`).toBe(0);
    }
    // -o json: the run's events and then its result, one JSON object a line, on stdout.
    const events = renew.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
    expect(oneHostAtATime(events, 'certs-etcd')).toHaveLength(masters.length);
    expect(oneHostAtATime(events, 'kube-master')).toHaveLength(masters.length);
    expect(oneHostAtATime(events, 'certs-kube-node')).toHaveLength(all.length);
    const steps = events.filter((e) => e.type === 'step-start').map((e) => e.step);
    expect(steps).toEqual([
      'etcd-snapshot',
      'certs-reissue',
      'certs-etcd',
      'kube-master',
      'certs-kube-node',
      'health',
    ]);
  });

  it('afterwards certs check shows new serials and notBefore on every leaf of every host, the CAs kept, and verify passes', async () => {
    const { run, rows } = await check();
    expect(run.exitCode, run.all).toBe(0);
    expect(rows.filter((r) => r.status !== 'ok')).toEqual([]);
    expect(rows.map(key)).toEqual(before.map(key));
    for (const row of rows) {
      const old = before.find((b) => key(b) === key(row))!;
      if (isCa(row)) expect(row.serial, key(row)).toBe(old.serial);
      else {
        expect(row.serial, key(row)).not.toBe(old.serial);
        expect(Date.parse(row.notBefore!), key(row)).toBeGreaterThan(Date.parse(old.notBefore!));
      }
    }
    const verify = await kubesmith('verify', lab);
    expect(verify.exitCode, verify.all).toBe(0);
  });
}
