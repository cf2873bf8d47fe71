import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Cluster } from '../commands/context.js';
import { openClusterAccess } from './access.js';
import { suiteBinaries } from './binaries.js';
import { imagesOnWorkloadNodes, missingImagesNamed, planImages } from './images.js';
import { DEFAULT_SKIP, focusOf, type Selection, selectionFor, type TestGroup } from './modes.js';
import { parseGinkgoReport, type TestResult } from './report.js';
import { listSuiteImages, runSuite } from './suite.js';

export interface ConformanceReport {
  selection: string;
  mode: Selection['mode'];
  /** Where e2e.test came from. */
  e2eTest: string;
  /** The master whose SSH connection carried the API. */
  via: string;
  focus: string;
  skip: string;
  results: TestResult[];
  passed: number;
  failed: number;
  skipped: number;
  /** Images the suite lists that the nodes test pods run on lack. */
  absentImages: string[];
  seconds: number;
  /** e2e.test's whole output. */
  log: string;
}

export interface ConformanceOptions {
  e2eBinary?: string;
  signal?: AbortSignal;
  say?: (line: string) => void;
}

/** A named mode's test that matched nothing in this suite (renamed upstream?) counts as failed. */
function unmatched(groups: readonly TestGroup[], results: readonly TestResult[]): TestResult[] {
  return groups
    .filter((g) => !results.some((r) => new RegExp(g.pattern).test(r.name)))
    .map((g) => ({
      name: g.title,
      state: 'failed',
      seconds: 0,
      message: 'no test of this e2e suite has this name',
    }));
}

/**
 * Failed tests of a FOCUS that could not pull an image the nodes lack: skipped for it. The
 * evidence looked at is dropped from every result.
 */
function excuseMissingImages(results: TestResult[], absent: readonly string[]): TestResult[] {
  return results.map(({ evidence, ...r }) => {
    const missing = r.state === 'failed' ? missingImagesNamed(evidence ?? '', absent) : [];
    return missing.length
      ? { ...r, state: 'skipped', message: `the nodes lack ${missing.join(', ')}`, missingImages: missing }
      : r;
  });
}

/**
 * Runs Kubernetes' e2e suite against the cluster from the deploy machine, through an SSH tunnel
 * to a master: a named mode's tests whose images the nodes have (the others are reported skipped
 * for the missing images), or the tests a FOCUS expression selects.
 */
export async function runConformance(
  cluster: Cluster,
  selection: string,
  options: ConformanceOptions = {},
): Promise<ConformanceReport> {
  const started = Date.now();
  const chosen = selectionFor(selection);
  const binaries = await suiteBinaries(cluster.loaded, options);
  const listed = await listSuiteImages(binaries.e2eTest);
  await mkdir(cluster.paths.runs, { recursive: true, mode: 0o700 });
  const log = join(cluster.paths.runs, `${new Date().toISOString().replace(/[:.]/g, '-')}-conformance.log`);
  const access = await openClusterAccess(cluster, options.signal);
  try {
    const { images } = imagesOnWorkloadNodes(await access.api.list('v1', 'Node'));
    const plan = planImages(chosen.groups, listed, images);
    const results: TestResult[] = plan.blocked.map(({ group, missing }) => ({
      name: group.title,
      state: 'skipped',
      seconds: 0,
      message: `the nodes lack ${missing.join(', ')}`,
      missingImages: missing,
    }));
    const focus = focusOf(plan.run);
    if (plan.run.length) {
      options.say?.(
        `running ${plan.run.length === 1 ? plan.run[0]!.title : `${plan.run.length} tests`} with e2e.test from ${binaries.source}; output in ${log}`,
      );
      const report = await runSuite({
        e2eTest: binaries.e2eTest,
        kubectl: binaries.kubectl,
        kubeconfig: access.kubeconfig,
        focus,
        skip: DEFAULT_SKIP,
        workDir: join(access.kubeconfig, '..'),
        log,
        signal: options.signal,
      });
      const ran = parseGinkgoReport(report);
      // A named mode ran only tests whose images are there: its failures are failures.
      results.push(...excuseMissingImages(ran, chosen.mode === 'focus' ? plan.absent : []));
      if (chosen.mode !== 'focus') results.push(...unmatched(plan.run, ran));
    }
    const count = (state: TestResult['state']) => results.filter((r) => r.state === state).length;
    return {
      selection,
      mode: chosen.mode,
      e2eTest: binaries.source,
      via: access.via,
      focus,
      skip: DEFAULT_SKIP,
      results,
      passed: count('passed'),
      failed: count('failed'),
      skipped: count('skipped'),
      absentImages: plan.absent,
      seconds: Math.round((Date.now() - started) / 100) / 10,
      log,
    };
  } finally {
    await access.close();
  }
}
