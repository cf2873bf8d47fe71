import { z } from 'zod';
import type { TestGroup } from './modes.js';

/**
 * Tests whose images the nodes lack are skipped, not failed: the cluster may have no registry
 * access (the lab has none), and a pod waiting for an image fails its test only after minutes.
 */

const refLine = z.string().regex(/^[a-z0-9][\w.\-/:]*[\w]$/i);

/** `e2e.test --list-images`: one image reference per line. */
export function parseImageList(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => refLine.safeParse(l).success);
}

/** `registry.k8s.io/e2e-test-images/agnhost:2.56` -> `registry.k8s.io/e2e-test-images/agnhost`. */
export function repositoryOf(ref: string): string {
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? ref.slice(0, colon) : ref;
}

const nodeSchema = z.object({
  metadata: z.object({ name: z.string() }),
  spec: z
    .object({
      unschedulable: z.boolean().optional(),
      taints: z.array(z.object({ key: z.string(), effect: z.string() })).optional(),
    })
    .optional(),
  status: z
    .object({ images: z.array(z.object({ names: z.array(z.string()).nullish() })).nullish() })
    .optional(),
});

/**
 * The images present on every node test pods may be scheduled to (not cordoned, no NoSchedule
 * or NoExecute taint), by the names the kubelets report (node.status.images).
 */
export function imagesOnWorkloadNodes(nodes: readonly unknown[]): { nodes: string[]; images: Set<string> } {
  const workload = nodes
    .map((n) => nodeSchema.parse(n))
    .filter(
      (n) =>
        !n.spec?.unschedulable &&
        !(n.spec?.taints ?? []).some((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute'),
    );
  let common: Set<string> | undefined;
  for (const node of workload) {
    const names = new Set((node.status?.images ?? []).flatMap((i) => i.names ?? []));
    common = common ? new Set([...common].filter((n) => names.has(n))) : names;
  }
  return { nodes: workload.map((n) => n.metadata.name), images: common ?? new Set() };
}

export interface ImagePlan {
  /** Groups whose every image is on the nodes. */
  run: TestGroup[];
  /** Groups left out, with the references the nodes lack. */
  blocked: { group: TestGroup; missing: string[] }[];
  /** Every image the suite lists that the nodes lack. */
  absent: string[];
}

/**
 * Which groups can run: a group's images are the listed references of its repositories (a
 * repository the suite does not list counts as missing, by its name).
 */
export function planImages(
  groups: readonly TestGroup[],
  listed: readonly string[],
  present: Set<string>,
): ImagePlan {
  const absent = listed.filter((ref) => !present.has(ref));
  const plan: ImagePlan = { run: [], blocked: [], absent };
  for (const group of groups) {
    const missing = group.images.flatMap((repo) => {
      const refs = listed.filter((ref) => repositoryOf(ref) === repo);
      return refs.length ? refs.filter((ref) => !present.has(ref)) : [repo];
    });
    if (missing.length) plan.blocked.push({ group, missing });
    else plan.run.push(group);
  }
  return plan;
}

const PULL_FAILURE = /ErrImagePull|ImagePullBackOff|Failed to pull image/;

/**
 * The absent images a failed test could not pull: named in its failure or log (where the
 * framework dumps the namespace's events), alongside a pull failure. A test of a FOCUS has no
 * image list beforehand, so this is how its missing images are told from real failures.
 */
export function missingImagesNamed(evidence: string, absent: readonly string[]): string[] {
  return PULL_FAILURE.test(evidence) ? absent.filter((ref) => evidence.includes(ref)) : [];
}
