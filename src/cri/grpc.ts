import { type ClientHttp2Session, connect, constants } from 'node:http2';
import type { Duplex } from 'node:stream';

/** A gRPC call that did not return OK: the status code and message the server sent. */
export class GrpcError extends Error {
  constructor(
    readonly path: string,
    readonly code: number,
    message: string,
  ) {
    super(`${path}: gRPC status ${code}${message ? `: ${message}` : ''}`);
  }
}

function frame(message: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, message]);
}

function unframe(body: Buffer, path: string): Buffer {
  if (body.length < 5) throw new GrpcError(path, constants.NGHTTP2_PROTOCOL_ERROR, 'empty response');
  if (body[0] !== 0) throw new GrpcError(path, 12, 'compressed responses are not supported');
  return body.subarray(5, 5 + body.readUInt32BE(1));
}

/**
 * gRPC over one byte stream (an SSH channel to a local socket): HTTP/2 with prior knowledge,
 * unary calls only, which is all the CRI checks need.
 */
export class GrpcChannel {
  private readonly session: ClientHttp2Session;

  constructor(stream: Duplex) {
    this.session = connect('http://localhost', { createConnection: () => stream });
    this.session.on('error', () => undefined);
  }

  unary(path: string, request: Buffer, timeoutMs = 10_000): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const call = this.session.request({
        ':method': 'POST',
        ':path': path,
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      const chunks: Buffer[] = [];
      let status: { code: number; message: string } | undefined;
      const readStatus = (headers: Record<string, unknown>) => {
        if (headers['grpc-status'] === undefined) return;
        status = {
          code: Number(headers['grpc-status']),
          message: decodeURIComponent(String(headers['grpc-message'] ?? '')),
        };
      };
      const timer = setTimeout(() => {
        call.close(constants.NGHTTP2_CANCEL);
        reject(new GrpcError(path, 4, `no answer in ${timeoutMs / 1000} s`));
      }, timeoutMs);
      call.on('response', readStatus);
      call.on('trailers', readStatus);
      call.on('data', (chunk: Buffer) => chunks.push(chunk));
      call.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      call.on('end', () => {
        clearTimeout(timer);
        if (!status) return reject(new GrpcError(path, 2, 'the call ended without a status'));
        if (status.code !== 0) return reject(new GrpcError(path, status.code, status.message));
        try {
          resolve(unframe(Buffer.concat(chunks), path));
        } catch (error) {
          reject(error);
        }
      });
      call.end(frame(request));
    });
  }

  close(): void {
    this.session.close();
  }
}
