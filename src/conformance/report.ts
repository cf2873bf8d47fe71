import { z } from 'zod';

/** The parts of ginkgo v2's JSON report (`--ginkgo.json-report`, types.Report) kubesmith reads. */
const specSchema = z.object({
  ContainerHierarchyTexts: z.array(z.string()).nullish(),
  LeafNodeType: z.string(),
  LeafNodeText: z.string(),
  State: z.enum([
    'invalid',
    'pending',
    'skipped',
    'passed',
    'failed',
    'aborted',
    'panicked',
    'interrupted',
    'timedout',
  ]),
  /** Go's zero time (0001-01-01) for a test the focus left out. */
  StartTime: z.string(),
  /** Nanoseconds. */
  RunTime: z.number(),
  /** Set when a test failed, or skipped itself (with the reason as its message). */
  /** The framework's log of the test: on failure it holds the test namespace's events. */
  CapturedGinkgoWriterOutput: z.string().optional(),
  Failure: z
    .object({
      Message: z.string(),
      ForwardedPanic: z.string().optional(),
      Location: z.object({ FileName: z.string(), LineNumber: z.number() }).partial().optional(),
    })
    .optional(),
});

export const ginkgoReportSchema = z.array(
  z.object({
    SuiteDescription: z.string(),
    SuiteSucceeded: z.boolean(),
    RunTime: z.number(),
    PreRunStats: z.object({ TotalSpecs: z.number(), SpecsThatWillRun: z.number() }),
    SpecReports: z.array(specSchema).nullish(),
  }),
);

type Spec = z.output<typeof specSchema>;

export type TestState = 'passed' | 'failed' | 'skipped';

export interface TestResult {
  name: string;
  state: TestState;
  seconds: number;
  /** Why it failed (the first lines of the failure), or why it was skipped. */
  message?: string;
  /** Set when skipped because the nodes lack an image the test's pods run. */
  missingImages?: string[];
  /** A failed test's whole failure message and log, to look for image pull failures in (not reported). */
  evidence?: string;
}

const FAILED_STATES = new Set<Spec['State']>(['failed', 'aborted', 'panicked', 'interrupted', 'timedout']);

/** A failure message cut to its first lines: ginkgo's carry whole object dumps. */
export function shortMessage(text: string, lines = 6): string {
  const kept = text.trim().split('\n').slice(0, lines);
  return kept.join('\n') + (text.trim().split('\n').length > lines ? '\n…' : '');
}

function resultOf(spec: Spec): TestResult {
  const texts = [...(spec.ContainerHierarchyTexts ?? []), spec.LeafNodeText].filter(Boolean);
  const name =
    spec.LeafNodeType === 'It' ? texts.join(' ') : `[${spec.LeafNodeType}] ${texts.join(' ')}`.trim();
  const state: TestState = FAILED_STATES.has(spec.State)
    ? 'failed'
    : spec.State === 'passed'
      ? 'passed'
      : 'skipped';
  const failure = spec.Failure?.ForwardedPanic || spec.Failure?.Message;
  const where = spec.Failure?.Location?.FileName
    ? ` (${spec.Failure.Location.FileName}:${spec.Failure.Location.LineNumber ?? '?'})`
    : '';
  return {
    name: name.replace(/\s+/g, ' ').trim(),
    state,
    seconds: Math.round(spec.RunTime / 1e7) / 100,
    ...(failure ? { message: shortMessage(failure) + (state === 'failed' ? where : '') } : {}),
    ...(state === 'failed' ? { evidence: `${failure ?? ''}\n${spec.CapturedGinkgoWriterOutput ?? ''}` } : {}),
  };
}

/**
 * The tests of a ginkgo JSON report that were selected: each test that ran or skipped itself,
 * and suite-level nodes (BeforeSuite, ...) only when they failed. Tests the focus left out
 * (skipped, never started, no reason) are not listed.
 */
export function parseGinkgoReport(json: unknown): TestResult[] {
  const suites = ginkgoReportSchema.parse(json);
  const results: TestResult[] = [];
  for (const suite of suites)
    for (const spec of suite.SpecReports ?? []) {
      if (spec.LeafNodeType !== 'It') {
        if (FAILED_STATES.has(spec.State)) results.push(resultOf(spec));
        continue;
      }
      if (spec.State === 'skipped' && !spec.Failure) continue;
      results.push(resultOf(spec));
    }
  return results;
}
