import { type ConformanceReport, runConformance } from '../conformance/run.js';
import { OperationError } from '../errors.js';
import { formatTable } from '../render/table.js';
import type { Cluster, GlobalOptions } from './context.js';

/** The report as a table: one row per test, then each failure's and skip's reason, then the counts. */
export function formatConformanceReport(report: ConformanceReport): string {
  const table = formatTable(
    ['STATE', 'SECONDS', 'TEST'],
    report.results.map((r) => [r.state.toUpperCase(), r.seconds.toFixed(1), r.name]),
  );
  const details = report.results
    .filter((r) => r.state !== 'passed' && r.message)
    .flatMap((r) => [`${r.state.toUpperCase()} ${r.name}`, ...r.message!.split('\n').map((l) => `    ${l}`)]);
  return [
    table,
    ...(details.length ? ['', ...details] : []),
    '',
    `conformance ${report.selection}: ${report.passed} passed, ${report.failed} failed, ${report.skipped} skipped in ${report.seconds.toFixed(0)}s (e2e.test from ${report.e2eTest}, through ${report.via}; output in ${report.log})`,
  ].join('\n');
}

/**
 * `verify <cluster> --conformance [quick|network|FOCUS]`: runs Kubernetes' e2e tests against
 * the cluster and prints passed / failed / skipped per test (one JSON line with `-o json`).
 * Throws OperationError (exit 1) when a test failed or a FOCUS selected none.
 */
export async function runConformanceCommand(
  cluster: Cluster,
  selection: string,
  options: GlobalOptions & { signal?: AbortSignal; e2eBinary?: string },
): Promise<void> {
  const json = options.output === 'json';
  const say = (message: string) =>
    process.stdout.write(json ? `${JSON.stringify({ type: 'message', message })}\n` : `${message}\n`);
  const report = await runConformance(cluster, selection, {
    signal: options.signal,
    say,
    ...(options.e2eBinary ? { e2eBinary: options.e2eBinary } : {}),
  });
  process.stdout.write(
    json
      ? `${JSON.stringify({ type: 'conformance-report', report })}\n`
      : `${formatConformanceReport(report)}\n`,
  );
  if (report.failed)
    throw new OperationError(
      `conformance ${selection}: ${report.failed} test(s) failed: ${report.results
        .filter((r) => r.state === 'failed')
        .map((r) => r.name)
        .join('; ')}`,
      `e2e.test's whole output is in ${report.log}`,
    );
  if (report.results.length === 0)
    throw new OperationError(
      `conformance ${selection}: no test of the e2e suite matched`,
      'give quick, network, or a regular expression matching test names (e2e.test --ginkgo.dry-run lists them)',
    );
}
