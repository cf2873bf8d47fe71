/** Flags as ExecStart continuation lines: every line but the last ends in a backslash. */
export function flagLines(flags: readonly string[]): string[] {
  return flags.map((flag, i) => (i < flags.length - 1 ? `${flag} \\` : flag));
}

/** The minor of a Kubernetes version as a number: 1.35.2 -> 35. */
export function kubernetesMinor(version: string): number {
  return Number(version.split('.')[1] ?? 0);
}
