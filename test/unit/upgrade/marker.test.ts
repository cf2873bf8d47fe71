import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RunData, sharedWith } from '../../../src/engine/run-data.js';
import type { PreflightContext } from '../../../src/engine/step.js';
import { InputError } from '../../../src/errors.js';
import { markUpgradeFinished, markUpgradeStarted, refuseDuringUpgrade } from '../../../src/upgrade/marker.js';
import { UPGRADE_REQUEST } from '../../../src/upgrade/run-keys.js';

const dir = mkdtempSync(join(tmpdir(), 'ks-upgrade-marker-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const context = (options: { dryRun?: boolean; data?: RunData } = {}) =>
  ({
    clusterDir: dir,
    dryRun: options.dryRun ?? false,
    shared: sharedWith(options.data ?? new RunData()),
    inventory: { cluster: { name: 'prod', kubernetesVersion: '1.35.4' } },
  }) as unknown as PreflightContext;

describe('an unfinished upgrade', () => {
  it('refuses other runs of the node steps, saying how to finish it, until it is done', async () => {
    await expect(refuseDuringUpgrade(context())).resolves.toBeUndefined();
    await markUpgradeStarted(dir, '1.35.4');
    const error = await refuseDuringUpgrade(context()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(/upgrade to 1\.35\.4 \(begun .*\) is unfinished/);
    expect((error as Error).message).toContain('kubesmith upgrade prod --to 1.35.4');
    await markUpgradeFinished(dir);
    await expect(refuseDuringUpgrade(context())).resolves.toBeUndefined();
  });

  it('lets the upgrade itself and dry runs through', async () => {
    await markUpgradeStarted(dir, '1.35.4');
    const data = new RunData();
    data.set(UPGRADE_REQUEST, {
      to: '1.35.4',
      inventoryText: '',
      stamp: 's',
      force: false,
      drainTimeoutMs: 1,
    });
    await expect(refuseDuringUpgrade(context({ data }))).resolves.toBeUndefined();
    await expect(refuseDuringUpgrade(context({ dryRun: true }))).resolves.toBeUndefined();
    await markUpgradeFinished(dir);
  });
});
