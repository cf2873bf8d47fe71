import { X509Certificate } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'node:tls';
import { urlHost } from '../../inventory/net.js';
import type { StreamOpener } from '../../kube/types.js';

export interface ServerAddress {
  host: string;
  port: number;
}

/**
 * The DER of the certificate the TLS server at `address` presents, as the host reaches it (a TLS
 * handshake over an SSH stream to socat). Nothing is verified here: the caller compares the bytes
 * with the certificate it expects, which is stricter than any chain check.
 */
export async function servedCertificate(conn: StreamOpener, address: ServerAddress): Promise<Buffer> {
  const { stream, stderr } = await conn.openStream([
    'socat',
    '-',
    `TCP:${urlHost(address.host)}:${address.port}`,
  ]);
  return new Promise((resolve, reject) => {
    const socket = connect({ socket: stream, rejectUnauthorized: false });
    const done = () => {
      socket.destroy();
      stream.destroy();
    };
    socket.once('secureConnect', () => {
      const raw = socket.getPeerCertificate().raw;
      done();
      resolve(raw);
    });
    socket.once('error', (error) => {
      done();
      reject(new Error(stderr() || error.message, { cause: error }));
    });
  });
}

/**
 * Whether the server presents `pem` within `timeoutMs`: a server that reads its certificate files
 * again when they change (kube-apiserver's --tls-cert-file) takes a moment to notice.
 */
export async function servesCertificate(
  conn: StreamOpener,
  address: ServerAddress,
  pem: string,
  { timeoutMs, signal }: { timeoutMs: number; signal?: AbortSignal },
): Promise<boolean> {
  const expected = new X509Certificate(pem).raw;
  const end = Date.now() + timeoutMs;
  for (;;) {
    signal?.throwIfAborted();
    const served = await servedCertificate(conn, address).catch(() => undefined);
    if (served?.equals(expected)) return true;
    if (Date.now() >= end) return false;
    await sleep(500, undefined, { signal });
  }
}
