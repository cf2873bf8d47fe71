import type { Step } from '../engine/step.js';
import { etcd } from './etcd.js';
import { images } from './images.js';
import { prepare } from './prepare.js';
import { runtime } from './runtime.js';

/** Every step, by id. The playbooks in playbooks/*.yaml name these. */
export const STEPS: ReadonlyMap<string, Step> = new Map(
  [prepare, etcd, runtime, images].map((s) => [s.id, s]),
);
