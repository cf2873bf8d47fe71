import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCluster } from '../../../src/commands/context.js';
import { dashboardToken, parseDuration } from '../../../src/commands/dashboard-token.js';
import { formatProblem, InputError } from '../../../src/errors.js';

describe('dashboard-token --duration', () => {
  it('takes hours, minutes and seconds between 10m and 24h', () => {
    expect(parseDuration('1h')).toBe(3600);
    expect(parseDuration('1h30m')).toBe(5400);
    expect(parseDuration('900s')).toBe(900);
    expect(parseDuration('10m')).toBe(600);
    expect(parseDuration('24h')).toBe(86_400);
  });

  it.each([
    ['', "--duration: '' is not a duration such as 1h, 30m, 1h30m or 900s"],
    ['1d', "--duration: '1d' is not a duration such as 1h, 30m, 1h30m or 900s"],
    ['30', "--duration: '30' is not a duration such as 1h, 30m, 1h30m or 900s"],
    ['5m', "--duration: must be between 10m (the API's minimum) and 24h, not 5m"],
    ['25h', "--duration: must be between 10m (the API's minimum) and 24h, not 25h"],
  ])('refuses %j', (text, message) => {
    expect(() => parseDuration(text)).toThrow(new InputError(message));
  });
});

describe('dashboard-token before any connection', () => {
  const home = mkdtempSync(join(tmpdir(), 'ks-dashboard-token-'));
  const identity = join(home, 'id_ed25519');
  writeFileSync(identity, 'a key file, only read for readability\n');
  const cluster = (dashboard: string) => {
    const file = join(home, `${dashboard.length}.yaml`);
    writeFileSync(
      file,
      `cluster: { name: ui }\nssh: { identityFile: ${identity} }\naddons:\n  dashboard: ${dashboard}\nhosts:\n  - { name: m1, address: 10.0.0.1, roles: [etcd, master] }\n`,
    );
    return openCluster(undefined, { home, inventory: file });
  };
  const failure = async (dashboard: string) =>
    dashboardToken(await cluster(dashboard), { seconds: 600 }).then(
      () => expect.unreachable('a token without a cluster'),
      (error: unknown) => error,
    );

  it('names the inventory field and the fix when the dashboard is disabled', async () => {
    const error = await failure('false');
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toBe('the dashboard addon is disabled');
    expect((error as InputError).problems.map(formatProblem)).toEqual([
      `${join(home, '5.yaml')}: addons.dashboard.enabled: is false: no dashboard is installed; set addons.dashboard.enabled: true and run 'kubesmith setup ui addons'`,
    ]);
  });

  it('says the cluster is not set up from this machine when it has no admin kubeconfig', async () => {
    const error = await failure('{ enabled: true }');
    expect(error).toEqual(
      new InputError(
        `no admin kubeconfig at ${join(home, 'clusters', 'ui', 'kubeconfig')}: the cluster is not set up from this machine; run kubesmith setup ui`,
      ),
    );
  });
});
