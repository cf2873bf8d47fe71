import { execa } from 'execa';
import { CLI, E2E_HOME, labUnavailable } from './harness.js';

/**
 * Builds the lab's base and artifact bundles once before any scenario: on a fresh machine
 * that takes about 38 minutes (Kubernetes from its Go modules), more than a test hook may.
 */
export default async function buildLabArtifacts(): Promise<void> {
  if (labUnavailable()) return;
  const build = await execa('node', [CLI, 'lab', 'build'], {
    env: { KUBESMITH_HOME: E2E_HOME, CI: 'true' },
    stdout: 'inherit',
    stderr: 'inherit',
    reject: false,
  });
  if (build.exitCode !== 0) throw new Error(`kubesmith lab build failed (exit ${build.exitCode})`);
}
