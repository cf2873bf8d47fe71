const END = '# END kubesmith managed block';

/** text with one managed block (replaced in place, or appended); every other line stays as it was. */
export function withManagedBlock(current: string, name: string, body: readonly string[]): string {
  const begin = `# BEGIN kubesmith managed block: ${name}`;
  const lines = current.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const start = lines.indexOf(begin);
  const end = start >= 0 ? lines.indexOf(END, start) : -1;
  const block = [begin, ...body, END];
  if (start >= 0 && end > start) lines.splice(start, end - start + 1, ...block);
  else lines.push(...block);
  return `${lines.join('\n')}\n`;
}

/** text without the managed block of that name; every other line stays as it was. */
export function withoutManagedBlock(current: string, name: string): string {
  const lines = current.split('\n');
  const start = lines.indexOf(`# BEGIN kubesmith managed block: ${name}`);
  const end = start >= 0 ? lines.indexOf(END, start) : -1;
  if (start >= 0 && end > start) lines.splice(start, end - start + 1);
  return lines.join('\n');
}

/** The cluster hosts block's lines: each host's address and name. */
export function clusterHostsEntries(
  hosts: readonly { address: string; name: string }[],
): { address: string; names: string[] }[] {
  return hosts.map((h) => ({ address: h.address, names: [h.name] }));
}

/** /etc/hosts with the cluster's hosts in one managed block. */
export function withHostsBlock(
  current: string,
  entries: readonly { address: string; names: string[] }[],
): string {
  return withManagedBlock(
    current,
    'cluster hosts',
    entries.map((e) => `${e.address} ${e.names.join(' ')}`),
  );
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
