import type ssh2 from 'ssh2';

type Client = InstanceType<typeof ssh2.Client>;

interface Shared {
  client: Promise<Client>;
  users: number;
}

/**
 * The bastion connections of one run: every host behind the same bastion shares one
 * connection, closed when its last host lets go (a hop that failed included), so a failed
 * hop leaks nothing and the process can exit.
 */
export class BastionPool {
  private readonly shared = new Map<string, Shared>();
  /** Connections opened so far (for tests and stats). */
  opened = 0;

  /**
   * The connection for `key`, opened by `open` when none is; `release` must be called once
   * the host's connection is done with it (or failed).
   */
  async acquire(key: string, open: () => Promise<Client>): Promise<{ client: Client; release: () => void }> {
    let entry = this.shared.get(key);
    if (!entry) {
      this.opened++;
      const created: Shared = { client: open(), users: 0 };
      entry = created;
      this.shared.set(key, created);
      created.client.then(
        (client) =>
          client.once('close', () => {
            if (this.shared.get(key) === created) this.shared.delete(key);
          }),
        () => {
          if (this.shared.get(key) === created) this.shared.delete(key);
        },
      );
    }
    const current = entry;
    current.users++;
    let client: Client;
    try {
      client = await current.client;
    } catch (error) {
      current.users--;
      throw error;
    }
    let released = false;
    return {
      client,
      release: () => {
        if (released) return;
        released = true;
        if (--current.users > 0) return;
        if (this.shared.get(key) === current) this.shared.delete(key);
        client.end();
      },
    };
  }

  /** Destroys every bastion connection (an interrupted run). */
  async destroyAll(): Promise<void> {
    const entries = [...this.shared.values()];
    this.shared.clear();
    for (const entry of entries) (await entry.client.catch(() => undefined))?.destroy();
  }
}
