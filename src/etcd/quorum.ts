/** Votes needed for a cluster of n voting members to make progress. */
export function quorum(n: number): number {
  return Math.floor(n / 2) + 1;
}

export interface RemovalCheck {
  members: string[];
  healthy: ReadonlySet<string>;
  remove: string[];
  force: boolean;
}

/**
 * Why removing these members (one at a time, healthy first) is refused, or undefined when it is safe:
 * never the last member, never below quorum with the unhealthy members counted, never an even end
 * count unless forced.
 */
export function removalRefusal({ members, healthy, remove, force }: RemovalCheck): string | undefined {
  const unknown = remove.filter((r) => !members.includes(r));
  if (unknown.length)
    return `${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not an etcd member (members: ${members.join(', ')})`;
  const remaining = members.filter((m) => !remove.includes(m));
  if (remaining.length === 0) return 'it would leave no etcd member: the cluster would be gone';
  let current = [...members];
  for (const name of remove) {
    const after = current.filter((m) => m !== name);
    const healthyAfter = after.filter((m) => healthy.has(m)).length;
    if (healthyAfter < quorum(after.length)) {
      const sick = current.filter((m) => !healthy.has(m));
      return `removing ${name} would break quorum: ${after.length} member(s) would remain, ${healthyAfter} healthy, ${quorum(after.length)} needed${sick.length ? ` (unhealthy now: ${sick.join(', ')}; repair them first)` : ''}`;
    }
    current = after;
  }
  if (remaining.length % 2 === 0 && !force)
    return `it would leave ${remaining.length} members, an even count; remove one more or one fewer, or pass --force`;
  return undefined;
}
