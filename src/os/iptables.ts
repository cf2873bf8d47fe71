/**
 * iptables-save text without chains whose names start with one of `prefixes`: their
 * declarations, the rules in them, and the rules elsewhere that jump or go to them. Every other
 * line stays as it was, so iptables-restore of the result leaves the rest of the host's rules alone.
 */
export function withoutChains(save: string, prefixes: readonly string[]): { text: string; removed: number } {
  const ours = (chain: string | undefined) =>
    chain !== undefined && prefixes.some((p) => chain.startsWith(p));
  let removed = 0;
  const kept = save.split('\n').filter((line) => {
    const drop = line.startsWith(':')
      ? ours(line.slice(1).split(' ')[0])
      : line.startsWith('-A ') && isOurs(line);
    if (drop) removed++;
    return !drop;
  });
  function isOurs(rule: string): boolean {
    const words = tokens(rule);
    if (ours(words[1])) return true;
    const target = words.findIndex((w) => w === '-j' || w === '-g' || w === '--jump' || w === '--goto');
    return target >= 0 && ours(words[target + 1]);
  }
  return { text: kept.join('\n'), removed };
}

/** A rule's words, a double-quoted comment (with its escapes) kept as one. */
function tokens(rule: string): string[] {
  return [...rule.matchAll(/"(?:[^"\\]|\\.)*"|\S+/g)].map((m) => m[0]);
}
