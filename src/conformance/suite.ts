import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { InterruptedError, OperationError } from '../errors.js';
import { parseImageList } from './images.js';

/** The images the e2e suite may run (`e2e.test --list-images`). */
export async function listSuiteImages(e2eTest: string): Promise<string[]> {
  const result = await execa(e2eTest, ['--list-images'], { reject: false });
  if (result.exitCode !== 0)
    throw new OperationError(`${e2eTest} --list-images exited ${result.exitCode}: ${result.stderr.trim()}`);
  return parseImageList(result.stdout);
}

export interface SuiteRunOptions {
  e2eTest: string;
  kubectl: string;
  kubeconfig: string;
  focus: string;
  skip: string;
  /** A private directory for the report and the suite's own output files. */
  workDir: string;
  /** The suite's stdout and stderr go here. */
  log: string;
  signal?: AbortSignal;
}

/** e2e.test's arguments: the local provider, our kubeconfig and kubectl, focus and skip, a JSON report. */
export function suiteArgs(options: Omit<SuiteRunOptions, 'log' | 'signal' | 'e2eTest'>): string[] {
  return [
    '--provider=local',
    `--kubeconfig=${options.kubeconfig}`,
    `--kubectl-path=${options.kubectl}`,
    `--e2e-output-dir=${options.workDir}`,
    `--ginkgo.focus=${options.focus}`,
    `--ginkgo.skip=${options.skip}`,
    `--ginkgo.json-report=${join(options.workDir, 'report.json')}`,
    '--ginkgo.no-color',
    '--ginkgo.silence-skips',
  ];
}

/**
 * Runs e2e.test (serially, as one ginkgo process) and returns its JSON report, parsed as JSON.
 * An abort stops it with SIGTERM (ginkgo then runs the tests' cleanup: their namespaces are
 * deleted) and throws InterruptedError.
 */
export async function runSuite(options: SuiteRunOptions): Promise<unknown> {
  // Created private first: both streams then append to it.
  await (await open(options.log, 'a', 0o600)).close();
  const log = { file: options.log, append: true } as const;
  const result = await execa(options.e2eTest, suiteArgs(options), {
    cwd: options.workDir,
    stdin: 'ignore',
    stdout: log,
    stderr: log,
    reject: false,
    cancelSignal: options.signal,
    forceKillAfterDelay: 60_000,
  });
  if (options.signal?.aborted) throw new InterruptedError();
  const text = await readFile(join(options.workDir, 'report.json'), 'utf8').catch(() => undefined);
  if (text === undefined) {
    const tail = (await readFile(options.log, 'utf8')).trim().split('\n').slice(-15).join('\n');
    throw new OperationError(
      `e2e.test exited ${result.exitCode ?? result.signal} without a report:\n${tail}`,
      `the whole output is in ${options.log}`,
    );
  }
  return JSON.parse(text);
}
