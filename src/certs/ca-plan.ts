import { K8S_PATHS } from '../components/kubernetes/paths.js';
import type { Inventory } from '../inventory/schema.js';
import { type RotationPhase, type RotationState, remainingPhases } from '../pki/rotation.js';
import { cas } from '../pki/spec.js';
import { leafIds, type RenewPhase, rolloutPhases } from './renew-plan.js';

export interface CaPhasePlan {
  phase: RotationPhase;
  rollout: RenewPhase[];
  /** What the deploy machine does before (and after) the rollout. */
  before: string;
  after?: string;
}

export interface CaRotationPlan {
  /** The phase a rotation recorded earlier stopped in; absent for a new one. */
  resumes?: RotationState;
  phases: CaPhasePlan[];
  /** Leaves reissued in new-signing. */
  leaves: string[];
  warnings: string[];
}

/** What certs renew --ca will do from here: the phases left, each rolled out one host at a time. */
export function caRotationPlan(
  inv: Inventory,
  state: RotationState | undefined,
  users: readonly string[],
): CaRotationPlan {
  const caIds = new Set(cas(inv).map((c) => c.id));
  // A kubeconfig embeds the CA bundle, so it changes with every phase; the signer's own file does not.
  const trustFiles = rolloutPhases(
    inv,
    (f) => (caIds.has(f.id) && f.path !== K8S_PATHS.signingCaCert) || f.kind === 'kubeconfig',
  );
  const ids = [...caIds].join(', ');
  const steps: Record<RotationPhase, CaPhasePlan> = {
    'trust-both': {
      phase: 'trust-both',
      before: `new CAs (${ids}) created in the deploy machine's pki/ca-rotation/new/; hosts trust old and new, the old CAs still sign`,
      rollout: trustFiles,
      after:
        'every Deployment, DaemonSet and StatefulSet whose pods mount a service-account token restarted (pods read ca.crt when they start), once kube-root-ca.crt holds both CAs',
    },
    'new-signing': {
      phase: 'new-signing',
      before: `the new CAs sign (the old ones kept in pki/ca-rotation/old/); every leaf reissued under them (${leafIds(inv).length})`,
      rollout: rolloutPhases(inv, () => true),
    },
    'drop-old': {
      phase: 'drop-old',
      before:
        'hosts trust the new CAs only; the apiservers write kube-system/extension-apiserver-authentication again, without the old ones (aggregated APIs read it)',
      rollout: trustFiles,
      after: 'the old CAs and the rotation record kept under pki/retired/ (nothing deleted)',
    },
  };
  const warnings = [
    'service-account tokens keep working: they are signed by sa.key, which the rotation keeps',
    'pods that call the API but belong to no Deployment, DaemonSet or StatefulSet (bare pods, Jobs) read ca.crt when they start and lose the API from phase 2 on until they are recreated; trust-both lists them',
    'workloads that do not roll (a paused Deployment, OnDelete updates) or were not ready before are restarted but not waited for; trust-both names them',
    ...(users.length
      ? [
          `user kubeconfigs issued before (${users.join(', ')}) trust only the old CA: they stop working in phase 2 (and their certificates in phase 3); issue them again with kubesmith kubeconfig --user afterwards`,
        ]
      : []),
  ];
  return {
    ...(state ? { resumes: state } : {}),
    phases: remainingPhases(state).map((phase) => steps[phase]),
    leaves: leafIds(inv),
    warnings,
  };
}

/** The plan as lines for the terminal. */
export function formatCaPlan(cluster: string, plan: CaRotationPlan): string {
  const lines = [`certs renew --ca plan for cluster ${cluster} (CA rotation with a trust overlap):`];
  if (plan.resumes)
    lines.push(
      `  resumes the rotation started ${plan.resumes.startedAt}, at phase ${plan.resumes.phase} (the phases before it are done)`,
    );
  lines.push('  an etcd snapshot first, copied to the deploy machine and verified');
  plan.phases.forEach((p, i) => {
    lines.push(`  phase ${p.phase} (${i + 1} of ${plan.phases.length}): ${p.before}`);
    for (const part of p.rollout) {
      lines.push(`    ${part.title}, one host at a time:`);
      for (const turn of part.turns)
        lines.push(`      ${turn.host}: ${turn.files.length} file(s) -> restart ${turn.restarts.join(', ')}`);
    }
    lines.push("    the cluster's health checked (as kubesmith verify)");
    if (p.after) lines.push(`    then: ${p.after}`);
  });
  for (const warning of plan.warnings) lines.push(`  note: ${warning}`);
  return `${lines.join('\n')}\n`;
}
