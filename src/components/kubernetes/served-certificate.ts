import { X509Certificate } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'node:tls';
import { InterruptedError } from '../../errors.js';
import { urlHost } from '../../inventory/net.js';
import type { StreamOpener } from '../../kube/types.js';

export interface ServerAddress {
  host: string;
  port: number;
}

/** One handshake's limit: a frozen server accepts the TCP connection and never answers. */
const HANDSHAKE_TIMEOUT_S = 5;

/**
 * The DER of the certificate the TLS server at `address` presents, as the host reaches it (a TLS
 * handshake over an SSH stream to socat). Nothing is verified here: the caller compares the bytes
 * with the certificate it expects, which is stricter than any chain check.
 */
export async function servedCertificate(
  conn: StreamOpener,
  address: ServerAddress,
  signal?: AbortSignal,
): Promise<Buffer> {
  const target = `TCP:${urlHost(address.host)}:${address.port},connect-timeout=${HANDSHAKE_TIMEOUT_S}`;
  const { stream, stderr } = await conn.openStream(['socat', `-T${HANDSHAKE_TIMEOUT_S}`, '-', target]);
  return new Promise((resolve, reject) => {
    const socket = connect({ socket: stream, rejectUnauthorized: false });
    const end = (outcome: () => void) => {
      signal?.removeEventListener('abort', aborted);
      socket.destroy();
      stream.destroy();
      outcome();
    };
    const aborted = () => end(() => reject(new InterruptedError()));
    signal?.addEventListener('abort', aborted, { once: true });
    if (signal?.aborted) return aborted();
    socket.setTimeout(HANDSHAKE_TIMEOUT_S * 1000, () =>
      end(() => reject(new Error(`no TLS handshake within ${HANDSHAKE_TIMEOUT_S} s`))),
    );
    socket.once('secureConnect', () => {
      const raw = socket.getPeerCertificate().raw;
      end(() => resolve(raw));
    });
    socket.once('error', (error) =>
      end(() => reject(new Error(stderr() || error.message, { cause: error }))),
    );
  });
}

/** What the last look found: the certificate, another one, or none (and why). */
export type Presented =
  | { status: 'presents' }
  | { status: 'another' }
  | { status: 'unreadable'; why: string };

/**
 * Whether the server presents `pem` within `timeoutMs`: a server that reads its certificate files
 * again when they change (kube-apiserver's --tls-cert-file) takes a moment to notice.
 */
export async function servesCertificate(
  conn: StreamOpener,
  address: ServerAddress,
  pem: string,
  { timeoutMs, signal }: { timeoutMs: number; signal?: AbortSignal },
): Promise<Presented> {
  const expected = new X509Certificate(pem).raw;
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (signal?.aborted) throw new InterruptedError();
    let seen: Presented;
    try {
      const served = await servedCertificate(conn, address, signal);
      if (served.equals(expected)) return { status: 'presents' };
      seen = { status: 'another' };
    } catch (error) {
      if (error instanceof InterruptedError) throw error;
      seen = { status: 'unreadable', why: (error as Error).message };
    }
    if (Date.now() >= end) return seen;
    await sleep(500, undefined, { signal }).catch(() => {
      throw new InterruptedError();
    });
  }
}
