import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HostCertFile } from '../../../src/certs/host-certs.js';
import { certsReadScript, parseCertsRead } from '../../../src/certs/read.js';
import { renderKubeconfig } from '../../../src/components/kubeconfig.js';
import { issue, type KeyPair } from '../../../src/pki/x509.js';

let ca: KeyPair;
let leaf: KeyPair;
let client: KeyPair;
const dir = mkdtempSync(join(tmpdir(), 'ks-certs-read-'));
const file = (name: string, kind: HostCertFile['kind'] = 'pem', id = name): HostCertFile => ({
  path: join(dir, name),
  kind,
  id,
  part: 'kube-master',
});

beforeAll(async () => {
  ca = await issue({ commonName: 'kubernetes', isCa: true, validityDays: 10 });
  leaf = await issue({ commonName: 'kube-apiserver', usages: ['server'], validityDays: 5 }, ca);
  client = await issue(
    { commonName: 'kubernetes-admin', organization: 'admins', usages: ['client'], validityDays: 3 },
    ca,
  );
  writeFileSync(join(dir, 'apiserver.crt'), leaf.certPem);
  writeFileSync(join(dir, 'bundle.crt'), ca.certPem + leaf.certPem);
  writeFileSync(
    join(dir, 'admin.conf'),
    renderKubeconfig({
      clusterName: 'c',
      server: 'https://127.0.0.1:6443',
      caPem: ca.certPem,
      user: 'kubernetes-admin',
      certPem: client.certPem,
      keyPem: client.keyPem,
    }),
  );
  writeFileSync(
    join(dir, 'garbage.crt'),
    '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n',
  );
  writeFileSync(
    join(dir, 'broken.conf'),
    `users: [\n  client-key-data: ${Buffer.from(client.keyPem).toString('base64')}\n`,
  );
});

/** The read's script run with a local sh, as a host would, and parsed. */
async function readLocally(files: HostCertFile[]) {
  const read = certsReadScript(files);
  const { stdout } = await execa('sh', ['-c', read.script], { stripFinalNewline: false });
  return parseCertsRead('m1', files, read.parse(stdout));
}

describe('certs read', () => {
  it('reads PEM files, bundles and the client certificate a kubeconfig embeds, in one command', async () => {
    const readings = await readLocally([
      file('apiserver.crt'),
      file('bundle.crt'),
      file('admin.conf', 'kubeconfig', 'admin'),
    ]);
    expect(readings.map((r) => [r.file.replace(dir, ''), 'cert' in r ? r.cert.subject : r.problem])).toEqual([
      ['/apiserver.crt', 'CN=kube-apiserver'],
      ['/bundle.crt', 'CN=kubernetes'],
      ['/bundle.crt#2', 'CN=kube-apiserver'],
      ['/admin.conf', 'CN=kubernetes-admin, O=admins'],
    ]);
    const first = readings[0]!;
    if (!('cert' in first)) throw new Error('no cert');
    expect(first.cert.issuer).toBe('CN=kubernetes');
    expect(first.cert.serial).toMatch(/^[0-9a-f]+$/);
    expect(first.cert.notAfter.getTime() - first.cert.notBefore.getTime()).toBe(5 * 86_400_000);
    expect(readings.every((r) => r.host === 'm1')).toBe(true);
  });

  it('says which files are missing or unreadable, and never quotes a kubeconfig it cannot parse', async () => {
    const readings = await readLocally([
      file('absent.crt'),
      file('garbage.crt'),
      file('broken.conf', 'kubeconfig'),
      file('apiserver.crt', 'kubeconfig'),
    ]);
    expect(readings.map((r) => ('problem' in r ? r.problem : 'cert'))).toEqual([
      'missing',
      'unreadable',
      'unreadable',
      'unreadable',
    ]);
    const broken = readings[2]!;
    expect('detail' in broken && broken.detail).toBe('not valid YAML');
    expect(JSON.stringify(readings)).not.toContain(
      Buffer.from(client.keyPem).toString('base64').slice(0, 40),
    );
  });
});
