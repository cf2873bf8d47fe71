import { describe, expect, it } from 'vitest';
import type { HostSpec } from '../../../src/inventory/schema.js';
import type { NodeVersion } from '../../../src/kube/node-versions.js';
import { judgeUpgrade } from '../../../src/upgrade/skew.js';

const host = (name: string, roles: string[]) => ({ name, address: '10.0.0.1', roles }) as unknown as HostSpec;
const HOSTS = [host('m1', ['etcd', 'master', 'node']), host('w1', ['node']), host('w2', ['node'])];
const node = (name: string, kubeletVersion: string | undefined): NodeVersion => ({
  name,
  kubeletVersion,
  notReady: undefined,
});
const apiservers = (...entries: [string, string][]) => new Map(entries);

describe('judgeUpgrade', () => {
  it('a cluster one minor below: every host pending, no problem', () => {
    const verdict = judgeUpgrade(
      HOSTS,
      apiservers(['m1', 'v1.34.4']),
      [node('m1', 'v1.34.4'), node('w1', 'v1.34.4'), node('w2', 'v1.34.4')],
      '1.35.4',
    );
    expect(verdict).toEqual({ problems: [], pending: ['m1', 'w1', 'w2'], strangers: [] });
  });

  it('a half-done upgrade resumes with the hosts not at the target, and those whose upgrade is unfinished', () => {
    const verdict = judgeUpgrade(
      HOSTS,
      apiservers(['m1', 'v1.35.4']),
      [
        node('m1', 'v1.35.4'),
        { ...node('w1', 'v1.35.4'), upgradingTo: '1.35.4' },
        node('w2', 'v1.34.4'),
        node('other', 'v1.34.4'),
      ],
      '1.35.4',
    );
    expect(verdict).toEqual({ problems: [], pending: ['w1', 'w2'], strangers: ['other'] });
  });

  it('refuses any apiserver two minors below, or above the target, naming the master', () => {
    const nodes = [node('m1', 'v1.34.1'), node('w1', 'v1.34.1'), node('w2', 'v1.34.1')];
    expect(
      judgeUpgrade(HOSTS, apiservers(['m1', 'v1.34.1'], ['m2', 'v1.33.1']), nodes, '1.35.4').problems,
    ).toEqual([
      'm2: its apiserver runs v1.33.1, more than one minor below 1.35.4; upgrade one minor at a time',
    ]);
    expect(judgeUpgrade(HOSTS, apiservers(['m1', 'v1.35.5']), nodes, '1.35.4').problems[0]).toMatch(
      /m1: its apiserver runs v1\.35\.5, above 1\.35\.4.*does not downgrade/,
    );
  });

  it('refuses an unregistered host, a kubelet above the target, and one too far behind, naming each host', () => {
    const verdict = judgeUpgrade(
      HOSTS,
      apiservers(['m1', 'v1.35.1']),
      [node('m1', 'v1.36.0'), node('w1', 'v1.31.9')],
      '1.35.4',
    );
    expect(verdict.problems).toEqual([
      'm1: its kubelet runs v1.36.0, above 1.35.4: kubesmith does not downgrade',
      'w1: its kubelet runs v1.31.9, more than 3 minors below 1.35.4, which the version-skew policy does not allow; upgrade it first',
      'w2 has no Node object: it is not in the cluster yet (kubesmith add-node, or setup, first)',
    ]);
  });
});
