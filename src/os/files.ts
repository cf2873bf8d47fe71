const BEGIN = '# BEGIN kubesmith managed block: cluster hosts';
const END = '# END kubesmith managed block';

/** /etc/hosts with the cluster's hosts in one managed block; every other line stays as it was. */
export function withHostsBlock(
  current: string,
  entries: readonly { address: string; names: string[] }[],
): string {
  const lines = current.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const start = lines.indexOf(BEGIN);
  const end = lines.indexOf(END);
  const kept = start >= 0 && end > start ? [...lines.slice(0, start), ...lines.slice(end + 1)] : lines;
  const block = [BEGIN, ...entries.map((e) => `${e.address} ${e.names.join(' ')}`), END];
  return `${[...kept, ...block].join('\n')}\n`;
}

/** /etc/fstab with active swap entries commented out, or undefined when there are none. */
export function withoutSwap(fstab: string): string | undefined {
  let changed = false;
  const lines = fstab.split('\n').map((line) => {
    const fields = line.trim().split(/\s+/);
    if (line.trim().startsWith('#') || fields[2] !== 'swap') return line;
    changed = true;
    return `#kubesmith: swap off# ${line}`;
  });
  return changed ? lines.join('\n') : undefined;
}
