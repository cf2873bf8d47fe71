import { randomBytes } from 'node:crypto';
import type { GrpcChannel } from './grpc.js';
import { encodeBool, encodeMessage, encodeString, encodeVarint, Message } from './protobuf.js';

/**
 * The CRI calls that prove a runtime can run something (what `crictl runp`, `crictl pods`,
 * `crictl stopp`, `crictl rmp` and `crictl images` ask), with the field numbers of
 * k8s.io/cri-api's api.proto (runtime.v1).
 */
const RUNTIME = '/runtime.v1.RuntimeService';
const IMAGES = '/runtime.v1.ImageService';

/** NamespaceMode NODE: the host's network, so no CNI plugin is needed. */
const NAMESPACE_NODE = 2;

export interface CriImage {
  id: string;
  repoTags: string[];
  pinned: boolean;
}

export function parseImages(reply: Buffer): CriImage[] {
  return Message.parse(reply)
    .messages(1)
    .map((image) => ({ id: image.string(1), repoTags: image.strings(2), pinned: image.bool(8) }));
}

export function runPodSandboxRequest(name: string, cgroupParent: string): Buffer {
  const uid = randomBytes(8).toString('hex');
  const metadata = encodeMessage(
    1,
    encodeString(1, name),
    encodeString(2, uid),
    encodeString(3, 'kubesmith-verify'),
    encodeVarint(4, 0),
  );
  const security = encodeMessage(2, encodeMessage(1, encodeVarint(1, NAMESPACE_NODE)));
  const linux = encodeMessage(8, encodeString(1, cgroupParent), security);
  // No hostname: on the host's network the sandbox shares the host's UTS namespace too.
  return encodeMessage(1, metadata, linux);
}

/** PodSandboxState: SANDBOX_READY is 0. */
export function parseSandboxReady(reply: Buffer): boolean {
  const status = Message.parse(reply).messages(1)[0];
  return status !== undefined && status.varint(3) === 0n && status.string(1) !== '';
}

export async function listImages(channel: GrpcChannel): Promise<CriImage[]> {
  return parseImages(await channel.unary(`${IMAGES}/ListImages`, Buffer.alloc(0)));
}

/**
 * Starts a pod sandbox (the configured pause image) on the host network, checks that it is
 * ready, and removes it again, whatever happened in between.
 */
export async function trySandbox(channel: GrpcChannel, cgroupParent: string): Promise<void> {
  const name = `kubesmith-verify-${randomBytes(3).toString('hex')}`;
  const created = Message.parse(
    await channel.unary(`${RUNTIME}/RunPodSandbox`, runPodSandboxRequest(name, cgroupParent), 60_000),
  ).string(1);
  if (!created) throw new Error('RunPodSandbox returned no sandbox id');
  const id = encodeString(1, created);
  try {
    const status = await channel.unary(
      `${RUNTIME}/PodSandboxStatus`,
      Buffer.concat([id, encodeBool(2, false)]),
    );
    if (!parseSandboxReady(status)) throw new Error(`pod sandbox ${created} started but is not ready`);
  } finally {
    await channel.unary(`${RUNTIME}/StopPodSandbox`, id, 30_000);
    await channel.unary(`${RUNTIME}/RemovePodSandbox`, id, 30_000);
  }
}
