/**
 * An iptables-restore --noflush script that removes chains whose names start with one of
 * `prefixes`, read from iptables-save text: first the rules elsewhere that jump or go to them
 * (-D with the rule as saved), then the chains' own rules (-F), then the chains (-X). Nothing
 * else is named, so rules other tools add meanwhile stay. Empty when there is nothing of ours.
 */
export function chainRemoval(save: string, prefixes: readonly string[]): { script: string; removed: number } {
  const ours = (chain: string | undefined) =>
    chain !== undefined && prefixes.some((p) => chain.startsWith(p));
  const tables: string[] = [];
  let removed = 0;
  let table: { name: string; jumps: string[]; chains: string[] } | undefined;
  for (const line of save.split('\n')) {
    if (line.startsWith('*')) table = { name: line.slice(1).trim(), jumps: [], chains: [] };
    else if (table && line.startsWith(':')) {
      const chain = line.slice(1).split(' ')[0];
      if (ours(chain)) table.chains.push(chain!);
    } else if (table && line.startsWith('-A ')) {
      const words = tokens(line);
      const target = words.findIndex((w) => w === '-j' || w === '-g' || w === '--jump' || w === '--goto');
      if (!ours(words[1]) && target >= 0 && ours(words[target + 1])) table.jumps.push(`-D ${line.slice(3)}`);
    } else if (table && line.trim() === 'COMMIT') {
      removed += table.jumps.length + table.chains.length;
      if (table.jumps.length || table.chains.length)
        tables.push(
          [
            `*${table.name}`,
            ...table.jumps,
            ...table.chains.map((c) => `-F ${c}`),
            ...table.chains.map((c) => `-X ${c}`),
            'COMMIT',
          ].join('\n'),
        );
      table = undefined;
    }
  }
  return { script: tables.length ? `${tables.join('\n')}\n` : '', removed };
}

/** A rule's words, a double-quoted comment (with its escapes) kept as one. */
function tokens(rule: string): string[] {
  return [...rule.matchAll(/"(?:[^"\\]|\\.)*"|\S+/g)].map((m) => m[0]);
}
