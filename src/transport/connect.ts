import { readFile } from 'node:fs/promises';
import type ssh2 from 'ssh2';
import type { ConnectConfig } from 'ssh2';
import { InterruptedError, SshError, type SshErrorKind } from '../errors.js';
import { fingerprint, knownHostsName } from './known-hosts.js';
import type { SshTarget } from './ssh.js';

/** The SSH handshake: keepalive, host key policy, and errors a user can act on. */

type Client = InstanceType<typeof ssh2.Client>;

/** ssh2 (and its optional native crypto binding) loads at the first connect: commands that never connect start sooner. */
let ssh2Module: Promise<typeof ssh2> | undefined;
const loadSsh2 = () => {
  ssh2Module ??= import('ssh2').then((m) => m.default);
  return ssh2Module;
};

/**
 * A dead host (or network) is noticed after about KEEPALIVE_INTERVAL_MS * (KEEPALIVE_COUNT_MAX + 1):
 * 15-20 s, not the minute a command would otherwise hang.
 */
export const KEEPALIVE_INTERVAL_MS = 5_000;
export const KEEPALIVE_COUNT_MAX = 3;

export function classify(
  target: SshTarget,
  error: Error & { level?: string; code?: string },
  hostKeyRefused?: string,
): SshError {
  const who = `${target.name} (${target.address}:${target.port})`;
  if (hostKeyRefused) {
    return new SshError(target.name, 'hostkey', `${who}: ${hostKeyRefused}`, undefined, { cause: error });
  }
  const byCode: Record<string, [SshErrorKind, string, string]> = {
    ECONNREFUSED: ['refused', 'connection refused', 'is sshd running and listening on that port?'],
    ENOTFOUND: ['dns', 'name does not resolve', 'check the address'],
    EAI_AGAIN: ['dns', 'name lookup failed', 'check the address and the resolver'],
    ETIMEDOUT: ['timeout', 'connection timed out', 'check the address, routes and firewalls'],
    EHOSTUNREACH: ['timeout', 'host unreachable', 'check the address and routes'],
    ENETUNREACH: ['timeout', 'network unreachable', 'check the address and routes'],
    ECONNRESET: ['closed', 'connection reset', 'sshd closed the connection; check MaxStartups and sshd logs'],
  };
  const known = error.code ? byCode[error.code] : undefined;
  if (known) return new SshError(target.name, known[0], `${who}: ${known[1]}`, known[2], { cause: error });
  if (error.level === 'client-authentication') {
    return new SshError(
      target.name,
      'auth',
      `${who}: authentication failed for user '${target.user}'`,
      `check ssh.user and ssh.identityFile, or install the key with ssh-copy-id -i ${target.identityFile ?? 'KEY'} ${target.user}@${target.address}`,
      { cause: error },
    );
  }
  if (error.level === 'client-timeout' || /timed out/i.test(error.message)) {
    return new SshError(
      target.name,
      'timeout',
      `${who}: SSH handshake timed out`,
      'raise ssh.connectTimeoutSeconds or check the host',
      { cause: error },
    );
  }
  return new SshError(target.name, 'other', `${who}: ${error.message}`, undefined, { cause: error });
}

async function privateKey(target: SshTarget): Promise<Buffer | undefined> {
  if (!target.identityFile) return undefined;
  let key: Buffer;
  try {
    key = await readFile(target.identityFile);
  } catch {
    return undefined;
  }
  const { utils } = await loadSsh2();
  const parsed = utils.parseKey(key);
  if (parsed instanceof Error) {
    throw new SshError(
      target.name,
      'auth',
      `${target.name}: cannot use ${target.identityFile} as a private key (${parsed.message})`,
      'point ssh.identityFile at an unencrypted OpenSSH private key, or load an encrypted one into ssh-agent',
    );
  }
  return key;
}

/** One SSH handshake (directly, or over `sock` through a bastion), host key checked by policy. */
export async function connectClient(
  target: SshTarget,
  signal?: AbortSignal,
  sock?: ConnectConfig['sock'],
): Promise<Client> {
  const { Client } = await loadSsh2();
  const client = new Client();
  const name = knownHostsName(target.address, target.port);
  let hostKeyRefused: string | undefined;
  const config: ConnectConfig = {
    host: target.address,
    port: target.port,
    username: target.user,
    privateKey: await privateKey(target),
    agent: target.agent,
    readyTimeout: target.connectTimeoutMs,
    keepaliveInterval: KEEPALIVE_INTERVAL_MS,
    keepaliveCountMax: KEEPALIVE_COUNT_MAX,
    sock,
    hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
      target.knownHosts.verify(name, key, target.hostKeyPolicy).then(
        (verdict) => {
          if (verdict === 'changed') {
            hostKeyRefused = `host key changed (now ${fingerprint(key)}); if the host was reinstalled on purpose, remove the line for ${name} from ${target.knownHosts.file}`;
          } else if (verdict === 'unknown') {
            hostKeyRefused = `host key ${fingerprint(key)} is not in ${target.knownHosts.file} and ssh.hostKeyPolicy is strict; add it (ssh-keyscan -p ${target.port} ${target.address}) or use accept-new`;
          }
          verify(hostKeyRefused === undefined);
        },
        () => verify(false),
      );
    },
  };
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      // destroy, not end: a handshake in progress would otherwise hold the process until it times out.
      client.destroy();
      reject(new InterruptedError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    let settled = false;
    client.once('ready', () => {
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      resolve(client);
    });
    // ssh2 may emit several errors for one failure (and keepalive errors later): handle all.
    client.on('error', (error) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      client.destroy();
      reject(classify(target, error, hostKeyRefused));
    });
    client.connect(config);
  });
}
