/**
 * The one place where remote command lines are built. Every value that reaches a
 * remote shell goes through quote(): argv arrays via commandLine(), and values
 * interpolated into shell syntax via the sh`` tag.
 */
const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

export type Argv = readonly string[];

export function quote(arg: string): string {
  if (arg === '') return "''";
  if (SAFE.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'"'"'`)}'`;
}

export function commandLine(argv: Argv): string {
  if (argv.length === 0) throw new Error('empty command');
  return argv.map(quote).join(' ');
}

/** Shell text whose interpolated values are quoted: strings as one word, arrays as a command line. */
export function sh(strings: TemplateStringsArray, ...values: (string | number | Argv)[]): string {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    if (typeof value === 'number') out += String(value);
    else if (typeof value === 'string') out += quote(value);
    else out += commandLine(value);
    out += strings[i + 1] ?? '';
  });
  return out;
}

/** A script run by /bin/sh, as argv. */
export function shell(...lines: string[]): Argv {
  return ['sh', '-c', lines.join('\n')];
}
