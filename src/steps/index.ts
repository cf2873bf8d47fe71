import type { Step } from '../engine/step.js';

/** Every step, by id. The playbooks in playbooks/*.yaml name these. */
export const STEPS: ReadonlyMap<string, Step> = new Map([].map((s: Step) => [s.id, s]));
