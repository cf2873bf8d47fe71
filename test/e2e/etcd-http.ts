import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { join } from 'node:path';

/**
 * A small client for etcd's JSON gateway (/v3/kv/*) over TLS with kubesmith's client
 * certificate, so tests can write thousands of keys quickly. Keys and values travel base64.
 */
export class EtcdHttp {
  private readonly agent: Agent;

  constructor(
    pkiDir: string,
    readonly endpoint: string,
  ) {
    this.agent = new Agent({
      keepAlive: true,
      maxSockets: 32,
      ca: readFileSync(join(pkiDir, 'etcd', 'ca.crt')),
      cert: readFileSync(join(pkiDir, 'etcd', 'kubesmith-client.crt')),
      key: readFileSync(join(pkiDir, 'etcd', 'kubesmith-client.key')),
    });
  }

  private call<T>(path: string, body: object): Promise<T> {
    return new Promise((resolve, reject) => {
      const req = request(
        `${this.endpoint}${path}`,
        {
          method: 'POST',
          agent: this.agent,
          headers: { 'content-type': 'application/json' },
          timeout: 10_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            if (res.statusCode !== 200) reject(new Error(`${path}: ${res.statusCode} ${text}`));
            else resolve(JSON.parse(text) as T);
          });
        },
      );
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error(`${path}: timed out`)));
      req.end(JSON.stringify(body));
    });
  }

  put(key: string, value: string): Promise<{ header: { revision: string } }> {
    return this.call('/v3/kv/put', { key: b64(key), value: b64(value) });
  }

  async putAll(entries: [string, string][], parallel = 32): Promise<void> {
    let next = 0;
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        while (next < entries.length) {
          const [k, v] = entries[next++]!;
          await this.put(k, v);
        }
      }),
    );
  }

  /** Every key under a prefix with its value. */
  async range(prefix: string): Promise<Map<string, string>> {
    const end = Buffer.from(prefix);
    end[end.length - 1] = (end[end.length - 1] ?? 0) + 1;
    const res = await this.call<{ kvs?: { key: string; value?: string }[] }>('/v3/kv/range', {
      key: b64(prefix),
      range_end: end.toString('base64'),
    });
    return new Map((res.kvs ?? []).map((kv) => [unb64(kv.key), unb64(kv.value ?? '')]));
  }

  async deletePrefix(prefix: string): Promise<void> {
    const end = Buffer.from(prefix);
    end[end.length - 1] = (end[end.length - 1] ?? 0) + 1;
    await this.call('/v3/kv/deleterange', { key: b64(prefix), range_end: end.toString('base64') });
  }

  close(): void {
    this.agent.destroy();
  }
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString();
