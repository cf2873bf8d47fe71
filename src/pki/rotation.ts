import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { InputError } from '../errors.js';
import type { CertSpec } from './spec.js';
import { issue } from './x509.js';

/**
 * A CA rotation's three phases, each rolled out to every host before the next begins:
 * - trust-both: the new CAs are trusted beside the old ones, which still sign;
 * - new-signing: the new CAs sign (every leaf reissued), the old ones still trusted;
 * - drop-old: only the new CAs trusted.
 */
export const ROTATION_PHASES = ['trust-both', 'new-signing', 'drop-old'] as const;
export type RotationPhase = (typeof ROTATION_PHASES)[number];

const stateSchema = z.object({
  phase: z.enum(ROTATION_PHASES),
  startedAt: z.string(),
  cas: z.array(z.string()).min(1),
});
export type RotationState = z.output<typeof stateSchema>;

/** Under pki/: the state record, the incoming CAs (new/) and, once they sign, the outgoing ones (old/). */
export const ROTATION_STATE = 'ca-rotation.json';
/** Kept out of what verify judges and of backups: old CAs after a rotation. */
export const RETIRED_DIR = 'retired';
export const ROTATION_DIR = 'ca-rotation';

const incoming = (dir: string, id: string, ext: 'crt' | 'key') =>
  join(dir, ROTATION_DIR, 'new', `${id}.${ext}`);
const outgoing = (dir: string, id: string, ext: 'crt' | 'key') =>
  join(dir, ROTATION_DIR, 'old', `${id}.${ext}`);
const current = (dir: string, id: string, ext: 'crt' | 'key') => join(dir, `${id}.${ext}`);

async function writeAtomic(file: string, content: string, mode: number): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const staged = `${file}.tmp-${process.pid}`;
  await writeFile(staged, content, { mode });
  await rename(staged, file);
}

const readText = (file: string) => readFile(file, 'utf8').catch(() => undefined);

/** The rotation in progress, or undefined; a record that does not parse is an error naming the file. */
export async function readRotation(dir: string): Promise<RotationState | undefined> {
  const file = join(dir, ROTATION_STATE);
  const text = await readText(file);
  if (text === undefined) return undefined;
  const parsed = stateSchema.safeParse(
    (() => {
      try {
        return JSON.parse(text);
      } catch {
        return undefined;
      }
    })(),
  );
  if (!parsed.success)
    throw new RotationError(`${file} is not a CA rotation record kubesmith wrote; it was left as it was`);
  return parsed.data;
}

/**
 * The PEM hosts trust for a CA: its current certificate first, then, until drop-old, every other
 * copy the rotation holds (incoming and outgoing), each once. A swap cut short halfway (the record
 * already at new-signing, a file not yet moved) still trusts both sides.
 */
export async function trustBundle(
  dir: string,
  id: string,
  own: string,
  state: RotationState | undefined,
): Promise<string> {
  if (!state?.cas.includes(id) || state.phase === 'drop-old') return own;
  const others = [await readText(incoming(dir, id, 'crt')), await readText(outgoing(dir, id, 'crt'))];
  if (!others.some(Boolean))
    throw new RotationError(
      `the CA rotation record names ${id}, but neither ${incoming(dir, id, 'crt')} nor ${outgoing(dir, id, 'crt')} exists`,
    );
  const pems = [own, ...others.filter((o): o is string => Boolean(o))].map((p) => `${p.trim()}\n`);
  return [...new Set(pems)].join('');
}

/** A rotation state a command cannot go on from: a user's input problem (the store), not a host's. */
export class RotationError extends InputError {
  constructor(message: string) {
    super(`pki: ${message}`);
  }
}

async function writeState(dir: string, state: RotationState): Promise<void> {
  await writeAtomic(join(dir, ROTATION_STATE), `${JSON.stringify(state, null, 2)}\n`, 0o600);
}

/** Makes the incoming CAs current, the outgoing kept in ca-rotation/old/; safe to repeat at any point. */
async function swapToIncoming(dir: string, ids: readonly string[]): Promise<void> {
  for (const id of ids) {
    const next = {
      crt: await readText(incoming(dir, id, 'crt')),
      key: await readText(incoming(dir, id, 'key')),
    };
    if (!next.crt || !next.key)
      throw new RotationError(
        `the incoming CA ${id} is missing from ${join(dir, ROTATION_DIR, 'new')}; restore pki/ from a backup`,
      );
    const now = await readText(current(dir, id, 'crt'));
    if (now !== next.crt && !(await readText(outgoing(dir, id, 'crt')))) {
      await writeAtomic(outgoing(dir, id, 'key'), await readFile(current(dir, id, 'key'), 'utf8'), 0o600);
      await writeAtomic(outgoing(dir, id, 'crt'), now ?? '', 0o644);
    }
    // The key first: a cut between the two leaves the old certificate with the new key, which
    // ensurePki refuses (key does not match), rather than a certificate no key signs for.
    await writeAtomic(current(dir, id, 'key'), next.key, 0o600);
    await writeAtomic(current(dir, id, 'crt'), next.crt, 0o644);
  }
}

/**
 * Moves the store to a phase; each move is safe to repeat after an interruption, and the record
 * is written before anything is moved. Entering trust-both creates the new CAs (keys 0600);
 * new-signing keeps the old CAs aside in ca-rotation/old/ and makes the new ones current;
 * drop-old only records the phase. Going back is refused.
 */
export async function enterPhase(
  dir: string,
  phase: RotationPhase,
  cas: readonly CertSpec[],
  now = new Date(),
): Promise<RotationState> {
  const before = await readRotation(dir);
  if (before && ROTATION_PHASES.indexOf(phase) < ROTATION_PHASES.indexOf(before.phase))
    throw new RotationError(`the CA rotation is at ${before.phase} already; it does not go back to ${phase}`);
  if (phase !== 'trust-both' && !before)
    throw new RotationError(
      `no CA rotation is recorded in ${join(dir, ROTATION_STATE)}: it starts with trust-both`,
    );
  if (phase === 'drop-old' && before?.phase === 'trust-both')
    throw new RotationError('the CA rotation must pass new-signing before the old CAs are dropped');
  const ids = before?.cas ?? cas.map((c) => c.id);
  const state: RotationState = { phase, startedAt: before?.startedAt ?? now.toISOString(), cas: ids };
  if (phase === 'trust-both')
    for (const spec of cas) {
      if (await readText(incoming(dir, spec.id, 'crt'))) continue;
      const fresh = await issue(spec.request);
      await writeAtomic(incoming(dir, spec.id, 'key'), fresh.keyPem, 0o600);
      await writeAtomic(incoming(dir, spec.id, 'crt'), fresh.certPem, 0o644);
    }
  await writeState(dir, state);
  if (phase === 'new-signing') await swapToIncoming(dir, ids);
  return state;
}

/**
 * Ends a rotation: the old and new CA copies and the record move, kept, to
 * pki/retired/ca-rotation-<start time>/ (the same place when repeated); nothing is deleted. Where
 * they went, or undefined when no rotation was recorded.
 */
export async function finishRotation(dir: string): Promise<string | undefined> {
  const state = await readRotation(dir);
  if (!state) return undefined;
  if (state.phase !== 'drop-old')
    throw new RotationError(`the CA rotation is at ${state.phase}, not finished`);
  const place = join(dir, RETIRED_DIR, `ca-rotation-${state.startedAt.replace(/[:.]/g, '-')}`);
  await mkdir(place, { recursive: true, mode: 0o700 });
  await rename(join(dir, ROTATION_DIR), join(place, ROTATION_DIR)).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
  await rename(join(dir, ROTATION_STATE), join(place, ROTATION_STATE));
  return place;
}

/** The phases still to roll out: all three for a new rotation, else from the recorded one on. */
export function remainingPhases(state: RotationState | undefined): RotationPhase[] {
  if (!state) return [...ROTATION_PHASES];
  return ROTATION_PHASES.slice(ROTATION_PHASES.indexOf(state.phase));
}
