import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A `systemctl` stand-in for hosts without systemd (containers, CI): it keeps each unit's
 * state in files under `dir` and logs every call, so tests can see what the engine asked.
 * Put `binDir` first on the PATH of the test sshd (TestSshd.start({ path })).
 */
export class FakeSystemd {
  readonly binDir: string;
  readonly stateDir: string;

  constructor(readonly dir: string) {
    this.binDir = join(dir, 'bin');
    this.stateDir = join(dir, 'units');
    mkdirSync(this.binDir, { recursive: true });
    mkdirSync(this.stateDir, { recursive: true });
    const script = `#!/bin/sh
state=${this.stateDir}
echo "$*" >> ${join(dir, 'calls')}
cmd=$1; shift
[ "$1" = --no-block ] && shift
case $cmd in
  show)
    while [ "$1" = -p ]; do shift 2; done
    for unit in "$@"; do
      echo "Id=$unit"
      echo "LoadState=loaded"
      echo "ActiveState=$(cat "$state/$unit.active" 2>/dev/null || echo inactive)"
      echo "UnitFileState=$(cat "$state/$unit.enabled" 2>/dev/null || echo disabled)"
      echo
    done ;;
  start|restart)
    if [ -e "$state/$1.fail" ]; then echo "Job for $1 failed" >&2; exit 1; fi
    echo active > "$state/$1.active" ;;
  reload) [ "$(cat "$state/$1.active" 2>/dev/null)" = active ] || { echo "$1 is not active, cannot reload" >&2; exit 1; } ;;
  stop) echo inactive > "$state/$1.active" ;;
  enable) echo enabled > "$state/$1.enabled" ;;
  disable) echo disabled > "$state/$1.enabled" ;;
  daemon-reload) ;;
  *) echo "fake systemctl: $cmd not supported" >&2; exit 1 ;;
esac
`;
    writeFileSync(join(this.binDir, 'systemctl'), script);
    chmodSync(join(this.binDir, 'systemctl'), 0o755);
  }

  /** The calls so far, one string each (e.g. 'restart web.service'). */
  calls(): string[] {
    const file = join(this.dir, 'calls');
    return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : [];
  }

  clearCalls(): void {
    rmSync(join(this.dir, 'calls'), { force: true });
  }

  setActive(unit: string, active: boolean): void {
    writeFileSync(join(this.stateDir, `${unit}.active`), active ? 'active\n' : 'inactive\n');
  }

  setEnabled(unit: string): void {
    writeFileSync(join(this.stateDir, `${unit}.enabled`), 'enabled\n');
  }

  /** Makes start/restart of the unit fail (or work again). */
  setFailing(unit: string, failing: boolean): void {
    const flag = join(this.stateDir, `${unit}.fail`);
    if (failing) writeFileSync(flag, '');
    else rmSync(flag, { force: true });
  }
}
