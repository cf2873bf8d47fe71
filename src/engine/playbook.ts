import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { InputError } from '../errors.js';
import type { HostSpec, Inventory, Role } from '../inventory/schema.js';
import { ROLES } from '../inventory/schema.js';
import { PACKAGE_ROOT } from '../package-root.js';

const group = z.union([z.literal('all'), z.enum(ROLES)]);

export const playbookSchema = z.strictObject({
  command: z.string(),
  description: z.string(),
  steps: z
    .array(
      z.strictObject({
        step: z.string().regex(/^[a-z][a-z0-9-]*$/),
        alias: z.string().optional(),
        hosts: z.union([group, z.array(group).min(1)]),
        /** Of the groups' hosts, only those the command names (add-node's new hosts), or all but them. */
        targets: z.enum(['only', 'except']).optional(),
      }),
    )
    .min(1),
});

export type Playbook = z.output<typeof playbookSchema>;
export type PlaybookEntry = Playbook['steps'][number];

export const PLAYBOOK_DIR = join(PACKAGE_ROOT, 'playbooks');

export async function loadPlaybook(name: string, dir = PLAYBOOK_DIR): Promise<Playbook> {
  const file = join(dir, `${name}.yaml`);
  const parsed = playbookSchema.safeParse(parse(await readFile(file, 'utf8')));
  if (!parsed.success) {
    throw new InputError(
      `${file}: invalid playbook`,
      parsed.error.issues.map((i) => ({ file, path: i.path.join('.'), message: i.message })),
    );
  }
  return parsed.data;
}

/** The hosts of a step's groups, in inventory order; `targets` are the hosts the command names. */
export function hostsFor(
  entry: PlaybookEntry,
  inventory: Inventory,
  only?: readonly string[],
  targets: readonly string[] = [],
): HostSpec[] {
  const groups = Array.isArray(entry.hosts) ? entry.hosts : [entry.hosts];
  const targeted = (name: string) =>
    entry.targets === undefined || (entry.targets === 'only') === targets.includes(name);
  return inventory.hosts.filter(
    (h) =>
      (groups.includes('all') || h.roles.some((r: Role) => groups.includes(r))) &&
      (!only || only.includes(h.name)) &&
      targeted(h.name),
  );
}

/** Picks entries by `all`, a step id, an alias such as `02`, or a range of aliases such as `01-03`. */
export function selectSteps(playbook: Playbook, selector: string): PlaybookEntry[] {
  if (selector === 'all') return playbook.steps;
  const range = /^(\d+)-(\d+)$/.exec(selector);
  const inRange = (alias: string | undefined) =>
    range !== null &&
    alias !== undefined &&
    /^\d+$/.test(alias) &&
    +alias >= +range[1]! &&
    +alias <= +range[2]!;
  const picked = playbook.steps.filter(
    (s) => s.step === selector || s.alias === selector || inRange(s.alias),
  );
  if (picked.length === 0) {
    const known = playbook.steps.map((s) => (s.alias ? `${s.alias} (${s.step})` : s.step)).join(', ');
    throw new InputError(
      `no step '${selector}' in ${playbook.command}; choose one of: all, ${known}, or a range such as 01-03`,
    );
  }
  return picked;
}
