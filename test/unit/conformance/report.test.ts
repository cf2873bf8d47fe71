import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { missingImagesNamed } from '../../../src/conformance/images.js';
import { selectionFor } from '../../../src/conformance/modes.js';
import { parseGinkgoReport, shortMessage } from '../../../src/conformance/report.js';

/** Reports e2e.test 1.34.4 wrote on the lab (1 master, 2 nodes), trimmed as test/fixtures/conformance/README.md says. */
const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(join(import.meta.dirname, '../../fixtures/conformance', name), 'utf8'));

describe('ginkgo JSON report', () => {
  it('quick: the one selected test, passed, with its duration; suite nodes and left-out tests not listed', () => {
    const results = parseGinkgoReport(fixture('quick-report.json'));
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({
      name: '[sig-node] Pods should be submitted and removed [NodeConformance] [Conformance]',
      state: 'passed',
    });
    expect(results[0]!.seconds).toBeGreaterThan(0);
    expect(results[0]!.message).toBeUndefined();
  });

  it('network: all nine selected tests, each matched by one of the mode’s patterns, passed', () => {
    const results = parseGinkgoReport(fixture('network-report.json'));
    const { groups } = selectionFor('network');
    expect(results).toHaveLength(groups.length);
    for (const group of groups)
      expect(
        results.filter((r) => new RegExp(group.pattern).test(r.name)).map((r) => r.state),
        group.title,
      ).toEqual(['passed']);
    expect(
      results.find((r) => r.name.includes('DNS should provide DNS for services'))!.seconds,
    ).toBeGreaterThan(1);
  });

  it('a failed test carries its state, a short message with its place, and its evidence; a failed suite node is listed', () => {
    const report = fixture('quick-report.json') as {
      SpecReports: {
        LeafNodeType: string;
        State: string;
        Failure?: object;
        CapturedGinkgoWriterOutput?: string;
      }[];
    }[];
    const specs = report[0]!.SpecReports;
    const test = specs.find((s) => s.LeafNodeType === 'It' && s.State === 'passed')!;
    Object.assign(test, {
      State: 'timedout',
      Failure: {
        Message: `Told to stop\n${'line\n'.repeat(10)}`,
        Location: { FileName: 'test/e2e/common/node/pods.go', LineNumber: 262 },
      },
      CapturedGinkgoWriterOutput: 'Failed to pull image "x"',
    });
    const beforeSuite = specs.find((s) => s.LeafNodeType === 'SynchronizedBeforeSuite')!;
    Object.assign(beforeSuite, { State: 'failed', Failure: { Message: 'nodes not ready' } });
    const results = parseGinkgoReport(report);
    expect(results.map((r) => [r.name.split(' ')[0], r.state])).toEqual([
      ['[SynchronizedBeforeSuite]', 'failed'],
      ['[sig-node]', 'failed'],
    ]);
    expect(results[1]!.message).toMatch(
      /^Told to stop\n(line\n){5}… \(test\/e2e\/common\/node\/pods\.go:262\)$/,
    );
    expect(results[0]!.message).toBe('nodes not ready');
    expect(results[1]!.evidence).toContain('Failed to pull image "x"');
  });

  it('rejects what is not a ginkgo report', () => {
    expect(() => parseGinkgoReport({ SpecReports: [] })).toThrow();
    expect(() => parseGinkgoReport([{ SuiteDescription: 'x' }])).toThrow();
  });

  it('cuts long messages to their first lines', () => {
    expect(shortMessage('a\nb\nc', 2)).toBe('a\nb\n…');
    expect(shortMessage('  a  ')).toBe('a');
  });
});

describe('a FOCUS run with a test whose image the lab lacks (recorded)', () => {
  const results = parseGinkgoReport(fixture('focus-report.json'));
  const byName = (words: string) => results.find((r) => r.name.includes(words))!;

  it('lists the test that passed, the one that skipped itself with its reason, and the one that failed', () => {
    expect(results.map((r) => r.state).sort()).toEqual(['failed', 'passed', 'skipped']);
    expect(byName('with a public image').state).toBe('passed');
    expect(byName('with a private image')).toMatchObject({
      state: 'skipped',
      message: 'Only supported for providers [gce] (not local)',
    });
    const lifecycle = byName('lifecycle of a ReplicationController');
    expect(lifecycle.state).toBe('failed');
    expect(lifecycle.message).toMatch(/^Wait for condition with watch events should not return an error/);
    expect(lifecycle.message).toMatch(/rc\.go:\d+\)$/);
  });

  it('the failure’s log shows the pull failure of the image the nodes lack, so it counts as skipped for it', () => {
    const nginx = 'registry.k8s.io/e2e-test-images/nginx:1.14-4';
    const absent = [nginx, 'registry.k8s.io/e2e-test-images/httpd:2.4.38-4'];
    expect(missingImagesNamed(byName('lifecycle of a ReplicationController').evidence!, absent)).toEqual([
      nginx,
    ]);
    expect(byName('with a public image').evidence).toBeUndefined();
  });
});
