/**
 * Tests that need something this machine may lack (root, sshd, the reference data, the lab)
 * go through here: without it they skip and say why; under CI (CI=true) they fail instead,
 * so a green CI run cannot hide tests that never ran.
 */
export function inCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = (env.CI ?? '').trim().toLowerCase();
  return value !== '' && value !== 'false' && value !== '0';
}

export class MissingPrerequisiteError extends Error {
  override readonly name = 'MissingPrerequisiteError';
}

/**
 * Whether the tests named by `what` must skip because of `missing` (a reason, or undefined when
 * nothing is missing). Prints the reason; throws under CI so that the test file fails.
 */
export function skipWithout(
  what: string,
  missing: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (missing === undefined) return false;
  if (inCi(env))
    throw new MissingPrerequisiteError(
      `${what} cannot run: ${missing}. CI is set, so a missing prerequisite fails instead of skipping.`,
    );
  console.warn(`SKIP ${what}: ${missing}`);
  return true;
}
