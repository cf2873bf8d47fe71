import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { certInfo, pemCertificates } from '../../../src/certs/read.js';
import { inventorySchema } from '../../../src/inventory/schema.js';
import { smokeImage } from '../../../src/verify/smoke-objects.js';
import { kubesmith, type labShell, waitFor } from '../harness.js';

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
 * `kubesmith certs check` and the input side of `certs renew` on a set-up lab cluster: the expiry
 * table of every host; both plans shown and refused without --yes off a terminal, a cluster not
 * there refused, nothing changed. (The leaf rollout itself runs as the rotation's new-signing
 * phase: the same steps, see caRotationTests.)
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
    // Per master (an etcd member): 4 etcd + 1 CA + 10 control plane (the signing CA among them) + 3 node; per node: 1 CA + 3 node.
    for (const i of all)
      expect(
        rows.filter((r) => r.host === `${lab}-${i + 1}`),
        `${lab}-${i + 1}`,
      ).toHaveLength(masters.includes(i) ? 18 : 4);
    const table = await kubesmith('certs', 'check', lab);
    expect(table.stdout).toMatch(/HOST +FILE +SUBJECT +ISSUER +NOT AFTER +DAYS/);
    expect(table.all).not.toContain('PRIVATE KEY');
    before = rows;
  });

  it('certs renew and certs renew --ca without --yes off a terminal show their plans and stop before any host is touched', async () => {
    const ca = await kubesmith('certs', 'renew', lab, '--ca');
    expect(ca.exitCode, ca.all).toBe(2);
    expect(ca.stderr).toMatch(/certs renew --ca plan for cluster/);
    expect(ca.stderr).toMatch(/re-run with --yes/);
    expect(existsSync(join(shell.clusterDir, 'pki', 'ca-rotation.json'))).toBe(false);
    const unconfirmed = await kubesmith('certs', 'renew', lab);
    expect(unconfirmed.exitCode, unconfirmed.all).toBe(2);
    expect(unconfirmed.stderr).toMatch(/certs renew plan for cluster/);
    expect(unconfirmed.stderr).toMatch(/re-run with --yes/);
    const missing = await kubesmith('certs', 'renew', 'no-such-cluster', '--yes');
    expect(missing.exitCode).toBe(2);
    const { rows } = await check();
    expect(rows.map((r) => `${key(r)} ${r.serial}`)).toEqual(before.map((r) => `${key(r)} ${r.serial}`));
  });
}

const ROTATION_NS = 'ca-rotation-e2e';

/**
 * `kubesmith certs renew --ca` on a set-up lab cluster: a bare pod (not restarted by the rotation)
 * started before it; the three phases rolled out one host at a time while every host's local
 * balancer keeps answering; afterwards every CA and leaf on every host is new, the pod's
 * service-account token (issued before) still authenticates, used with the ca.crt the kubelet now
 * projects into the pod; the old CAs kept under pki/retired/, and verify passes.
 */
export function caRotationTests(
  lab: string,
  shell: ReturnType<typeof labShell>,
  masters: number[],
  all: number[],
): void {
  const kubectl = (args: string) =>
    shell.run(masters[0]!, `kubectl --kubeconfig /etc/kubernetes/admin.conf ${args}`);
  let before: Row[] = [];
  let podHost = -1;
  let podFiles = '';
  let tokenBefore = '';
  let podCaBefore = '';

  const check = async () => {
    const run = await kubesmith('certs', 'check', lab, '-o', 'json');
    const line = run.stdout.split('\n').find((l) => l.startsWith('{"type":"result"'));
    expect(line, run.all).toBeDefined();
    return { run, rows: rowsSchema.parse(JSON.parse(line!)).rows };
  };

  it('before: a bare pod with a service-account token, and every certificate read', async () => {
    before = (await check()).rows;
    const image = smokeImage(
      inventorySchema.parse(parse(readFileSync(join(shell.clusterDir, 'inventory.yaml'), 'utf8'))),
    );
    await kubectl(`create namespace ${ROTATION_NS}`);
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'holder', namespace: ROTATION_NS },
      spec: { containers: [{ name: 'holder', image, args: ['pause'] }] },
    };
    await kubectl(`apply -f - <<'EOF'\n${JSON.stringify(pod)}\nEOF`);
    await kubectl(`-n ${ROTATION_NS} wait pod/holder --for=condition=Ready --timeout=120s`);
    const node = (await kubectl(`-n ${ROTATION_NS} get pod holder -o jsonpath={.spec.nodeName}`)).trim();
    const uid = (await kubectl(`-n ${ROTATION_NS} get pod holder -o jsonpath={.metadata.uid}`)).trim();
    podHost = all.find((i) => `${lab}-${i + 1}` === node)!;
    expect(podHost, node).toBeGreaterThanOrEqual(0);
    podFiles = (
      await shell.run(
        podHost,
        `ls -d /var/lib/kubelet/pods/${uid}/volumes/kubernetes.io~projected/kube-api-access-*`,
      )
    ).trim();
    tokenBefore = (await shell.run(podHost, `cat ${podFiles}/token`)).trim();
    podCaBefore = await shell.run(podHost, `cat ${podFiles}/ca.crt`);
    expect(tokenBefore.split('.')).toHaveLength(3);
  });

  it('certs renew --ca: three phases, each one host at a time, the API answering through every local balancer throughout', async () => {
    for (const i of all)
      await shell.run(i, `nohup sh -c '${loopScript(masters.includes(i))}' </dev/null >/dev/null 2>&1 &`);
    const started = Date.now();
    const rotate = await kubesmith('certs', 'renew', lab, '--ca', '--yes', '-o', 'json');
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    const counts = await Promise.all(
      all.map(async (i) => {
        await shell.run(i, `touch ${LOOP_DIR}/stop; sleep 1`);
        const [ok, bad] = (await shell.run(i, `cat ${LOOP_DIR}/count`)).trim().split(' ').map(Number);
        const failures = await shell.run(i, `cat ${LOOP_DIR}/failures 2>/dev/null || true`);
        return { host: `${lab}-${i + 1}`, ok: ok!, bad: bad!, failures };
      }),
    );
    console.log(`certs renew --ca took ${seconds} s; requests per host:`, counts);
    expect(rotate.exitCode, rotate.all).toBe(0);
    expect(rotate.stderr).toMatch(/certs renew --ca plan for cluster/);
    for (const c of counts) {
      expect(c.ok, c.host).toBeGreaterThan(50);
      expect(c.bad, `${c.host}: ${c.failures}`).toBe(0);
    }
    const events = rotate.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
    const steps = events.filter((e) => e.type === 'step-start').map((e) => e.step);
    for (const phase of ['ca-trust-both', 'ca-new-signing', 'ca-drop-old'])
      expect(
        steps.filter((s) => s === phase),
        phase,
      ).toHaveLength(1);
    expect(steps.filter((s) => s === 'certs-kube-node')).toHaveLength(3);
    expect(steps.indexOf('api-clients-restart')).toBeLessThan(steps.indexOf('ca-new-signing'));
    expect(oneHostAtATime(events, 'certs-etcd')).toHaveLength(masters.length * 3);
    expect(oneHostAtATime(events, 'kube-master')).toHaveLength(masters.length * 3);
    expect(oneHostAtATime(events, 'certs-kube-node')).toHaveLength(all.length * 3);
    expect(events.find((e) => e.type === 'result')?.phases).toEqual([
      'trust-both',
      'new-signing',
      'drop-old',
    ]);
    // Three rollouts of every host, one at a time: 9-12 min here beside the other e2e files.
  }, 1_800_000);

  it('afterwards every CA and leaf on every host is new, one CA per file, the old CAs kept aside, and verify passes', async () => {
    const { run, rows } = await check();
    expect(run.exitCode, run.all).toBe(0);
    expect(rows.filter((r) => r.status !== 'ok')).toEqual([]);
    expect(rows.map((r) => `${r.host} ${r.file}`)).toEqual(before.map((r) => `${r.host} ${r.file}`));
    const oldCaSerials = new Set(before.filter(isCa).map((r) => r.serial));
    for (const row of rows) {
      const old = before.find((b) => b.host === row.host && b.file === row.file)!;
      expect(row.serial, `${row.host} ${row.file}`).not.toBe(old.serial);
      expect(Date.parse(row.notBefore!), `${row.host} ${row.file}`).toBeGreaterThan(
        Date.parse(old.notBefore!),
      );
      expect(oldCaSerials.has(row.serial!), `${row.host} ${row.file}`).toBe(false);
    }
    // What the apiservers publish for aggregated APIs and kube-controller-manager for pods: the new CAs alone.
    const auth = JSON.parse(
      await kubectl('-n kube-system get configmap extension-apiserver-authentication -o json'),
    );
    const rootCa = JSON.parse(await kubectl('-n kube-system get configmap kube-root-ca.crt -o json'));
    for (const [what, pem] of [
      ['client-ca-file', auth.data['client-ca-file']],
      ['requestheader-client-ca-file', auth.data['requestheader-client-ca-file']],
      ['kube-root-ca.crt', rootCa.data['ca.crt']],
    ]) {
      const certs = pemCertificates(pem);
      expect(certs, what).toHaveLength(1);
      expect(oldCaSerials.has(certInfo(certs[0]!).serial), what).toBe(false);
    }
    const pki = join(shell.clusterDir, 'pki');
    expect(existsSync(join(pki, 'ca-rotation.json'))).toBe(false);
    const retired = readdirSync(join(pki, 'retired'));
    expect(retired).toHaveLength(1);
    expect(readFileSync(join(pki, 'retired', retired[0]!, 'ca-rotation', 'old', 'ca.key'), 'utf8')).toMatch(
      /PRIVATE KEY/,
    );
    const verify = await kubesmith('verify', lab);
    expect(verify.exitCode, verify.all).toBe(0);
  });

  it("the pod's token from before the rotation still authenticates, with the new ca.crt the kubelet projects into it", async () => {
    const hostCa = await shell.run(podHost, 'cat /etc/kubernetes/pki/ca.crt');
    await waitFor(
      "the pod's projected ca.crt to equal the host's",
      async () => (await shell.run(podHost, `cat ${podFiles}/ca.crt`)) === hostCa,
      120_000,
    );
    expect(await shell.run(podHost, `cat ${podFiles}/ca.crt`)).not.toBe(podCaBefore);
    const review = JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    const answer = await shell.run(
      podHost,
      `curl -sS --fail --max-time 10 --cacert ${podFiles}/ca.crt -H 'Authorization: Bearer ${tokenBefore}' -H 'Content-Type: application/json' -X POST --data '${review}' https://127.0.0.1:6443/apis/authentication.k8s.io/v1/selfsubjectreviews`,
    );
    expect(JSON.parse(answer).status.userInfo.username).toBe(`system:serviceaccount:${ROTATION_NS}:default`);
    await kubectl(`delete namespace ${ROTATION_NS} --wait=false`);
  });
}
