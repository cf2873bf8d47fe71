/**
 * The shell and local streams behind SshConnection.stage: what a file's bytes go through on their
 * way to a temporary name beside their destination, and the check before it is moved into place.
 */
import { type Hash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { posix } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { quote, sh } from './quote.js';

/** What stage() sends: bytes, a local file as it is, or a gzip of a local file whose content has this sha256. */
export type StageSource = Buffer | { localPath: string } | { gzipPath: string; contentSha256: string };

export function isGzipSource(source: StageSource): source is { gzipPath: string; contentSha256: string } {
  return !Buffer.isBuffer(source) && 'gzipPath' in source;
}

/** `.<name>.kubesmith-<random>` beside dest: the names apply.ts's leftoversShell cleans up. */
export function stagedName(dest: string): string {
  return posix.join(
    posix.dirname(dest),
    `.${posix.basename(dest)}.kubesmith-${randomBytes(6).toString('hex')}`,
  );
}

/**
 * Shell that writes stdin to the staged name, private until installed. A gzip stream is
 * decompressed as it arrives; gzip fails on a stream cut short (its trailer holds the length and a
 * CRC), and the partial file is removed then, as it is when the command is signalled.
 */
export function receiveShell(staged: string, gzip: boolean): string {
  if (!gzip) return sh`umask 077 && cat > ${staged}`;
  const remove = sh`rm -f ${staged}`;
  return [
    `trap ${quote(`${remove}; exit 1`)} HUP INT TERM PIPE`,
    `${sh`umask 077 && gzip -dc > ${staged}`} || { ${remove}; exit 1; }`,
  ].join('\n');
}

/** Shell that fails (and removes the staged file) unless it holds exactly the wanted bytes. */
export function verifyShell(staged: string, dest: string, sha256: string): string {
  const refused = `kubesmith: ${dest}: the uploaded file's sha256 differs from what was sent; not installed`;
  return sh`{ [ "$(sha256sum < ${staged} | cut -d ' ' -f 1)" = ${sha256} ] || { rm -f ${staged}; echo ${refused} >&2; false; }; }`;
}

/** A local file as a stream that hashes exactly what is read from it (and so sent). */
export function hashedFile(path: string, hash: Hash): Readable {
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  file.once('error', (error) => hashing.destroy(error));
  hashing.once('close', () => file.destroy());
  return file.pipe(hashing);
}
