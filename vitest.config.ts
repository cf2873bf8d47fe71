import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const report = process.env.KUBESMITH_TEST_REPORT;

/**
 * The Kubernetes e2e (about 30 minutes) starts first, in a worker of its own; the second worker
 * takes the other scenarios, each with its own lab, then the unit tests. Most of the long file's
 * time is spent waiting on restarts and rollouts, so the rest runs beside it instead of after it.
 */
class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) =>
      f.moduleId.endsWith('test/e2e/kubernetes.test.ts') ? 0 : f.project.name === 'e2e' ? 1 : 2;
    return [...sorted].sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    reporters: report ? ['default', 'json'] : ['default'],
    ...(report ? { outputFile: { json: report } } : {}),
    // Two workers on the 2-core CI machine: see LongestFirst. Projects in one group share them.
    maxWorkers: 2,
    sequence: { sequencer: LongestFirst },
    projects: [
      {
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/e2e/global-setup.ts'],
          testTimeout: 600_000,
          hookTimeout: 900_000,
        },
      },
    ],
  },
});
