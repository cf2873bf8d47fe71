import { describe, expect, it } from 'vitest';
import { OperationError } from '../../../src/errors.js';
import { downgradeRefusal, refuseDowngrade } from '../../../src/upgrade/installed.js';

describe('the installed-version guard', () => {
  it('refuses a minor or a major back, names the host, both versions and the way out', () => {
    const refusal = downgradeRefusal('m1', '1.35.4\n', '1.34.4');
    expect(refusal).toMatch(/^m1 runs Kubernetes 1\.35\.4, and the inventory asks for 1\.34\.4/);
    expect(refusal).toMatch(/set cluster\.kubernetesVersion to 1\.35\.4 or newer/);
    expect(refusal).toMatch(/delete \/etc\/kubesmith\/kubernetes-version/);
    expect(downgradeRefusal('m1', 'v2.0.0', '1.37.0')).toBeDefined();
    expect(() => refuseDowngrade('w1', '1.36.0', '1.35.9')).toThrow(OperationError);
  });

  it('lets through a patch back, the same version, any step forward, and hosts without a record', () => {
    for (const [installed, wanted] of [
      ['1.35.4', '1.35.1'],
      ['v1.35.4', '1.35.4'],
      ['1.34.4', '1.35.4'],
      ['1.34.4', '2.0.0'],
      ['', '1.34.4'],
      ['garbage', '1.34.4'],
    ] as const)
      expect(downgradeRefusal('m1', installed, wanted), `${installed} -> ${wanted}`).toBeUndefined();
    expect(() => refuseDowngrade('w1', '1.35.0', '1.35.0')).not.toThrow();
  });
});
