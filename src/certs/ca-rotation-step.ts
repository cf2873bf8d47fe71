import { join } from 'node:path';
import type { DeployStep } from '../engine/step.js';
import { forgetPkiMemos } from '../hostlib/kubernetes-pki.js';
import { enterPhase, type RotationPhase } from '../pki/rotation.js';
import { cas } from '../pki/spec.js';

const WHAT: Record<RotationPhase, string> = {
  'trust-both': 'new CAs created beside the old ones; hosts trust both, the old ones still sign',
  'new-signing': 'the new CAs sign (the old ones kept in pki/ca-rotation/old/, still trusted)',
  'drop-old': 'only the new CAs trusted',
};

/**
 * The deploy-machine step that moves the PKI store to a rotation phase before the rollout steps
 * that follow it in the phase's playbook (they read the store again: the run's memos are dropped).
 */
export function caPhaseStep(phase: RotationPhase): DeployStep {
  return {
    id: `ca-${phase}`,
    title: `CA rotation, ${phase}: ${WHAT[phase]}`,
    onDeployMachine: true,
    async run(ctx) {
      if (ctx.dryRun) return ctx.log(`would move the PKI store to ${phase} [dry run: not written]`);
      const state = await enterPhase(join(ctx.clusterDir, 'pki'), phase, cas(ctx.inventory));
      forgetPkiMemos(ctx.shared);
      ctx.log(`pki: CA rotation of ${state.cas.join(', ')} at ${phase} (started ${state.startedAt})`);
    },
  };
}
