import { z } from 'zod';

/** What the node wait reads of each pod (GET /api/v1/pods?fieldSelector=spec.nodeName=…). */
export const podListSchema = z.object({
  items: z.array(
    z.object({
      metadata: z.object({
        name: z.string(),
        namespace: z.string().default('default'),
        deletionTimestamp: z.string().nullish(),
      }),
      status: z
        .object({
          phase: z.string().optional(),
          conditions: z.array(z.object({ type: z.string(), status: z.string() })).default([]),
        })
        .prefault({}),
    }),
  ),
});
type Pod = z.output<typeof podListSchema>['items'][number];

/**
 * The pods on a node that should serve but are not Ready: running (or starting) and not being
 * deleted. A kubelet that restarts marks its pods' probed containers not ready until their
 * readiness probes pass again; the next host must not restart before that, or two replicas of
 * one Service could be out at once.
 */
export function podsNotReady(pods: readonly Pod[]): string[] {
  return pods
    .filter(
      (p) => (p.status.phase === 'Running' || p.status.phase === 'Pending') && !p.metadata.deletionTimestamp,
    )
    .filter((p) => p.status.conditions.find((c) => c.type === 'Ready')?.status !== 'True')
    .map((p) => `${p.metadata.namespace}/${p.metadata.name}`)
    .sort();
}
