import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hostsFor, loadPlaybook, PLAYBOOK_DIR, selectSteps } from '../../../src/engine/playbook.js';
import { InputError } from '../../../src/errors.js';
import type { Inventory } from '../../../src/inventory/schema.js';
import { STEPS } from '../../../src/steps/index.js';

const playbooks = readdirSync(PLAYBOOK_DIR)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.replace(/\.yaml$/, ''));

describe('playbooks', () => {
  it.each(playbooks)(
    '%s names only steps that exist; steps sharing an alias stand together',
    async (name) => {
      const playbook = await loadPlaybook(name);
      for (const entry of playbook.steps) expect(STEPS.has(entry.step), `${name}: ${entry.step}`).toBe(true);
      const ids = playbook.steps.map((s) => s.step);
      expect(new Set(ids).size).toBe(ids.length);
      const runs = playbook.steps
        .map((s) => s.alias)
        .filter((alias, i, all) => alias !== undefined && alias !== all[i - 1]);
      expect(new Set(runs).size).toBe(runs.length);
    },
  );

  it('every step file is registered under its file name', () => {
    const files = readdirSync(new URL('../../../src/steps/', import.meta.url)).filter(
      (f) => f !== 'index.ts',
    );
    for (const file of files)
      expect(STEPS.get(file.replace(/\.ts$/, ''))?.id).toBe(file.replace(/\.ts$/, ''));
  });

  it('selects by all, id, alias or a range of aliases, and names the choices for an unknown one', async () => {
    const setup = await loadPlaybook('setup');
    expect(selectSteps(setup, 'all')).toHaveLength(setup.steps.length);
    expect(selectSteps(setup, '01')[0]?.step).toBe('prepare');
    expect(selectSteps(setup, 'prepare')[0]?.alias).toBe('01');
    expect(selectSteps(setup, '03').map((s) => s.step)).toEqual(['runtime', 'images']);
    expect(selectSteps(setup, '01-03').map((s) => s.step)).toEqual(['prepare', 'etcd', 'runtime', 'images']);
    expect(selectSteps(setup, '05-06').map((s) => s.step)).toEqual([
      'kube-node',
      'kube-node-config',
      'network',
    ]);
    expect(selectSteps(setup, 'kube-master').map((s) => s.alias)).toEqual(['04']);
    expect(() => selectSteps(setup, '08-09')).toThrow(/a range such as 01-03/);
    expect(() => selectSteps(setup, 'nope')).toThrow(InputError);
    expect(() => selectSteps(setup, 'nope')).toThrow(/01 \(prepare\)/);
  });

  it('an entry with targets runs on the named hosts only, or on all but them', () => {
    const inventory = {
      hosts: [
        { name: 'm1', roles: ['etcd', 'master'] },
        { name: 'w1', roles: ['node'] },
        { name: 'w2', roles: ['node'] },
      ],
    } as unknown as Inventory;
    const names = (hosts: { name: string }[]) => hosts.map((h) => h.name);
    expect(names(hostsFor({ step: 'x', hosts: 'all' }, inventory, undefined, ['w2']))).toEqual([
      'm1',
      'w1',
      'w2',
    ]);
    expect(
      names(hostsFor({ step: 'x', hosts: 'node', targets: 'only' }, inventory, undefined, ['w2'])),
    ).toEqual(['w2']);
    expect(
      names(hostsFor({ step: 'x', hosts: 'all', targets: 'except' }, inventory, undefined, ['w2'])),
    ).toEqual(['m1', 'w1']);
    expect(names(hostsFor({ step: 'x', hosts: 'node', targets: 'only' }, inventory))).toEqual([]);
  });
});
