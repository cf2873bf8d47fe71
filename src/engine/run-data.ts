/** A named, typed slot of run data. */
export interface DataKey<T> {
  readonly name: string;
  /** Never set: carries the slot's type. */
  readonly type?: T;
}

export function dataKey<T>(name: string): DataKey<T> {
  return { name };
}

/**
 * What a command and the steps of its run share: the command's inputs, what one phase hands
 * the next, the results the command prints afterwards, and the errors of deploy-machine steps
 * (so a refusal keeps its type, and its exit code). One object, put in the run's shared data
 * by the command, so the command still holds it after the run.
 */
export class RunData {
  private readonly values = new Map<string, unknown>();
  readonly failures: unknown[] = [];

  set<T>(key: DataKey<T>, value: T): void {
    this.values.set(key.name, value);
  }

  get<T>(key: DataKey<T>): T | undefined {
    return this.values.get(key.name) as T | undefined;
  }

  /** The value an earlier phase (or the command) must have set. */
  need<T>(key: DataKey<T>): T {
    if (!this.values.has(key.name))
      throw new Error(`run data '${key.name}' is missing: the phase that sets it did not run first`);
    return this.values.get(key.name) as T;
  }
}

const SLOT = 'run:data';

/** The run's RunData: the one the command gave, else a new one for this run. */
export function runData(shared: Map<string, unknown>): RunData {
  let data = shared.get(SLOT) as RunData | undefined;
  if (!data) {
    data = new RunData();
    shared.set(SLOT, data);
  }
  return data;
}

/** Shared data to start a run with, holding `data`. */
export function sharedWith(data: RunData): Map<string, unknown> {
  return new Map([[SLOT, data]]);
}

export function recordFailure(shared: Map<string, unknown>, error: unknown): void {
  runData(shared).failures.push(error);
}
