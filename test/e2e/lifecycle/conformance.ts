import { expect, it } from 'vitest';
import { selectionFor } from '../../../src/conformance/modes.js';
import type { ConformanceReport } from '../../../src/conformance/run.js';
import { kubesmith } from '../harness.js';

/** Every test of the mode ran and passed: by name, none skipped, none missing. */
function expectAllPassed(mode: string, report: ConformanceReport | undefined, output: string) {
  expect(report, output).toBeDefined();
  const failedOrSkipped = report!.results.filter((r) => r.state !== 'passed');
  expect(failedOrSkipped, output).toEqual([]);
  for (const group of selectionFor(mode).groups)
    expect(
      report!.results.some((r) => new RegExp(group.pattern).test(r.name)),
      `${group.title} ran`,
    ).toBe(true);
}

/**
 * Kubernetes' own conformance tests (`verify --conformance`) on a set-up lab cluster. Declares its
 * tests in the caller's describe: the kubernetes e2e runs them on its cluster, before it changes it.
 */
export function conformanceTests(LAB: string): void {
  /** `verify --conformance MODE -o json` as a user runs it (the health checks, then the tests); its report line. */
  async function conformance(mode: string) {
    const run = await kubesmith('verify', LAB, '--conformance', mode, '-o', 'json');
    const line = run.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l))
      .find((e) => e.type === 'conformance-report');
    return { run, report: line?.report as ConformanceReport | undefined };
  }

  it('conformance quick: Pods should be submitted and removed passes', async () => {
    const { run, report } = await conformance('quick');
    expect(run.exitCode, run.all).toBe(0);
    expectAllPassed('quick', report, run.all);
    expect(report!.results).toHaveLength(1);
  });

  it('conformance network: Services, pod and node networking over HTTP and UDP, and DNS all pass', {
    timeout: 1_200_000,
  }, async () => {
    const { run, report } = await conformance('network');
    expect(run.exitCode, run.all).toBe(0);
    expectAllPassed('network', report, run.all);
    expect(report!.results).toHaveLength(selectionFor('network').groups.length);
  });
}
