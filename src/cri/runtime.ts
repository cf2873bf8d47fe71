import type { Duplex } from 'node:stream';
import { GrpcChannel } from './grpc.js';
import { encodeBool, encodeString, Message } from './protobuf.js';
import { type CriImage, listImages, trySandbox } from './sandbox.js';

const SERVICE = '/runtime.v1.RuntimeService';

export interface RuntimeVersion {
  runtimeName: string;
  runtimeVersion: string;
  runtimeApiVersion: string;
}

export interface RuntimeCondition {
  type: string;
  status: boolean;
  reason: string;
  message: string;
}

/** What `crictl info` prints: the runtime's conditions and, verbose, its effective config. */
export interface RuntimeStatus {
  conditions: RuntimeCondition[];
  info: Record<string, string>;
}

export function parseVersion(reply: Buffer): RuntimeVersion {
  const message = Message.parse(reply);
  return {
    runtimeName: message.string(2),
    runtimeVersion: message.string(3),
    runtimeApiVersion: message.string(4),
  };
}

export function parseStatus(reply: Buffer): RuntimeStatus {
  const message = Message.parse(reply);
  const conditions = (message.messages(1)[0]?.messages(1) ?? []).map((c) => ({
    type: c.string(1),
    status: c.bool(2),
    reason: c.string(3),
    message: c.string(4),
  }));
  return { conditions, info: message.stringMap(2) };
}

/** The CRI calls kubesmith makes to check a runtime (what `crictl version` and `crictl info` ask). */
export class CriClient {
  private readonly channel: GrpcChannel;

  constructor(stream: Duplex) {
    this.channel = new GrpcChannel(stream);
  }

  async version(): Promise<RuntimeVersion> {
    return parseVersion(await this.channel.unary(`${SERVICE}/Version`, encodeString(1, 'v1')));
  }

  async status(verbose = true): Promise<RuntimeStatus> {
    return parseStatus(await this.channel.unary(`${SERVICE}/Status`, encodeBool(1, verbose)));
  }

  images(): Promise<CriImage[]> {
    return listImages(this.channel);
  }

  /** Runs a pod sandbox of the configured pause image and removes it: the runtime can run containers. */
  trySandbox(cgroupParent: string): Promise<void> {
    return trySandbox(this.channel, cgroupParent);
  }

  close(): void {
    this.channel.close();
  }
}

/** Opens the runtime's CRI socket on a host (socat on the SSH channel), runs fn, closes it; names the socket when it cannot be reached. */
export async function withCri<T>(
  conn: { openStream(argv: readonly string[]): Promise<{ stream: Duplex; stderr: () => string }> },
  socket: string,
  fn: (cri: CriClient) => Promise<T>,
): Promise<T> {
  const { stream, stderr } = await conn.openStream(['socat', '-', `UNIX-CONNECT:${socket}`]);
  const cri = new CriClient(stream);
  try {
    return await fn(cri);
  } catch (error) {
    const why = stderr();
    if (why) throw new Error(`cannot reach the CRI on ${socket}: ${why}`, { cause: error });
    throw error;
  } finally {
    cri.close();
  }
}
