import { describe, expect, it } from 'vitest';
import { formatConformanceReport } from '../../../src/commands/conformance.js';
import type { ConformanceReport } from '../../../src/conformance/run.js';

const report: ConformanceReport = {
  selection: 'network',
  mode: 'network',
  e2eTest: 'the artifact bundle',
  via: 'm1',
  focus: '…',
  skip: '…',
  results: [
    {
      name: '[sig-network] Services should serve a basic endpoint from pods [Conformance]',
      state: 'passed',
      seconds: 10.83,
    },
    {
      name: '[sig-network] DNS should provide DNS for services',
      state: 'skipped',
      seconds: 0,
      message: 'the nodes lack registry.k8s.io/e2e-test-images/jessie-dnsutils:1.7',
      missingImages: ['registry.k8s.io/e2e-test-images/jessie-dnsutils:1.7'],
    },
    { name: 'x [Conformance]', state: 'failed', seconds: 301.6, message: 'timed out\nwaiting' },
  ],
  passed: 1,
  failed: 1,
  skipped: 1,
  absentImages: [],
  seconds: 312.4,
  log: '/h/clusters/c/runs/t-conformance.log',
};

describe('the conformance table', () => {
  it('one row per test, then the reasons of skips and failures, then the counts and where the output is', () => {
    const text = formatConformanceReport(report);
    expect(text.split('\n').slice(0, 4)).toEqual([
      'STATE    SECONDS  TEST',
      'PASSED   10.8     [sig-network] Services should serve a basic endpoint from pods [Conformance]',
      'SKIPPED  0.0      [sig-network] DNS should provide DNS for services',
      'FAILED   301.6    x [Conformance]',
    ]);
    expect(text).toContain(
      'SKIPPED [sig-network] DNS should provide DNS for services\n    the nodes lack registry.k8s.io/e2e-test-images/jessie-dnsutils:1.7',
    );
    expect(text).toContain('FAILED x [Conformance]\n    timed out\n    waiting');
    expect(text.split('\n').at(-1)).toBe(
      'conformance network: 1 passed, 1 failed, 1 skipped in 312s (e2e.test from the artifact bundle, through m1; output in /h/clusters/c/runs/t-conformance.log)',
    );
  });
});
