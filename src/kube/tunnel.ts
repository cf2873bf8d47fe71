import { createServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { urlHost } from '../inventory/net.js';
import type { StreamOpener } from './types.js';

export interface TunnelTarget {
  host: string;
  port: number;
}

/** The apiserver, or the local balancer in front of the apiservers, as a master sees it. */
export const LOCAL_APISERVER: TunnelTarget = { host: '127.0.0.1', port: 6443 };

export interface Tunnel {
  /** https://127.0.0.1:<port>: the apiserver certificate names 127.0.0.1, so TLS is verified as usual. */
  url: string;
  /** Why the connection through the tunnel that ended last failed on the host (socat's stderr, or the SSH error), if it did. */
  lastFailure(): string | undefined;
  /** Stops listening and cuts every connection. */
  close(): Promise<void>;
}

function joinBothWays(
  socket: Socket,
  stream: Duplex,
  onEnd: (failure: string | undefined) => void,
  stderr: () => string,
) {
  const cut = () => {
    socket.destroy();
    stream.destroy();
  };
  // socat prefixes its messages with a date, time and pid: "2025/01/02 03:04:05 socat[42] E connect(...): ..."
  const record = () => onEnd(stderr().replace(/^\S+ \S+ socat\[\d+\] /gm, 'socat: ') || undefined);
  socket.on('error', cut).on('close', cut);
  stream.on('error', cut).on('close', () => {
    record();
    cut();
  });
  // The failure is recorded before the client sees its connection end, so its error can say why.
  stream.on('end', () => {
    record();
    socket.end();
  });
  socket.pipe(stream);
  stream.pipe(socket, { end: false });
}

/**
 * A local TCP port whose every connection is carried to target on the host: each accepted socket
 * gets its own `socat - TCP:host:port` over the SSH connection, piped both ways.
 */
export async function openTunnel(
  conn: StreamOpener,
  target: TunnelTarget = LOCAL_APISERVER,
): Promise<Tunnel> {
  const sockets = new Set<Socket>();
  let failure: string | undefined;
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    conn.openStream(['socat', '-', `TCP:${urlHost(target.host)}:${target.port}`]).then(
      ({ stream, stderr }) => {
        if (socket.destroyed) {
          stream.destroy();
          return;
        }
        joinBothWays(socket, stream, (why) => (failure = why), stderr);
      },
      (error: unknown) => {
        failure = error instanceof Error ? error.message : String(error);
        socket.destroy();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('the tunnel has no local port');
  return {
    url: `https://127.0.0.1:${address.port}`,
    lastFailure: () => failure,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
