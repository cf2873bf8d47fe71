import { afterEach, describe, expect, it, vi } from 'vitest';
import { inCi, MissingPrerequisiteError, skipWithout } from '../../helpers/prerequisite.js';

describe('tests that need a prerequisite', () => {
  afterEach(() => vi.restoreAllMocks());

  it('run when nothing is missing', () => {
    expect(skipWithout('real sshd tests', undefined, { CI: 'true' })).toBe(false);
  });

  it('skip and say why outside CI', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    expect(skipWithout('real sshd tests', 'not root', {})).toBe(true);
    expect(warn).toHaveBeenCalledWith('SKIP real sshd tests: not root');
  });

  it('fail under CI instead of skipping', () => {
    expect(() => skipWithout('real sshd tests', 'not root', { CI: 'true' })).toThrow(
      MissingPrerequisiteError,
    );
    expect(() => skipWithout('real sshd tests', 'not root', { CI: '1' })).toThrow(/not root.*CI/);
  });

  it('reads CI like CI services set it', () => {
    expect(inCi({ CI: 'true' })).toBe(true);
    expect(inCi({ CI: 'false' })).toBe(false);
    expect(inCi({ CI: '' })).toBe(false);
    expect(inCi({})).toBe(false);
  });
});
