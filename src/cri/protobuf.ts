/**
 * The few protocol-buffer wire rules the CRI calls kubesmith makes need: strings, bools,
 * nested messages and maps (repeated key/value messages). Unknown fields are kept and ignored.
 */

export interface Field {
  no: number;
  /** A varint, or the bytes of a length-delimited field; fixed-width fields are skipped. */
  value: bigint | Buffer;
}

function readVarint(buf: Buffer, at: number): [bigint, number] {
  let result = 0n;
  for (let shift = 0n, i = at; i < buf.length; i++, shift += 7n) {
    const byte = buf[i]!;
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [result, i + 1];
  }
  throw new Error('protobuf: truncated varint');
}

function writeVarint(value: number): Buffer {
  const bytes: number[] = [];
  let v = value;
  while (v > 0x7f) {
    bytes.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

export function decode(buf: Buffer): Field[] {
  const fields: Field[] = [];
  let at = 0;
  while (at < buf.length) {
    const [key, next] = readVarint(buf, at);
    const no = Number(key >> 3n);
    const wire = Number(key & 7n);
    at = next;
    if (wire === 0) {
      const [value, after] = readVarint(buf, at);
      fields.push({ no, value });
      at = after;
    } else if (wire === 2) {
      const [length, after] = readVarint(buf, at);
      const end = after + Number(length);
      if (end > buf.length) throw new Error('protobuf: truncated field');
      fields.push({ no, value: buf.subarray(after, end) });
      at = end;
    } else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else throw new Error(`protobuf: unsupported wire type ${wire}`);
  }
  return fields;
}

export function encodeString(no: number, value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  return Buffer.concat([writeVarint((no << 3) | 2), writeVarint(bytes.length), bytes]);
}

export function encodeBool(no: number, value: boolean): Buffer {
  return Buffer.concat([writeVarint(no << 3), writeVarint(value ? 1 : 0)]);
}

export function encodeVarint(no: number, value: number): Buffer {
  return Buffer.concat([writeVarint(no << 3), writeVarint(value)]);
}

/** A nested message field from its already encoded fields. */
export function encodeMessage(no: number, ...fields: Buffer[]): Buffer {
  const body = Buffer.concat(fields);
  return Buffer.concat([writeVarint((no << 3) | 2), writeVarint(body.length), body]);
}

/** Accessors for one decoded message. */
export class Message {
  constructor(readonly fields: Field[]) {}

  static parse(buf: Buffer): Message {
    return new Message(decode(buf));
  }

  private bytes(no: number): Buffer[] {
    return this.fields.filter((f) => f.no === no && Buffer.isBuffer(f.value)).map((f) => f.value as Buffer);
  }

  string(no: number): string {
    return this.bytes(no).at(-1)?.toString('utf8') ?? '';
  }

  bool(no: number): boolean {
    const varints = this.fields.filter((f) => f.no === no && typeof f.value === 'bigint');
    return varints.at(-1)?.value === 1n;
  }

  /** Every value of a repeated string field. */
  strings(no: number): string[] {
    return this.bytes(no).map((b) => b.toString('utf8'));
  }

  varint(no: number): bigint {
    const varints = this.fields.filter((f) => f.no === no && typeof f.value === 'bigint');
    return (varints.at(-1)?.value as bigint | undefined) ?? 0n;
  }

  messages(no: number): Message[] {
    return this.bytes(no).map((b) => Message.parse(b));
  }

  /** A map<string, string> field: repeated entries with key 1 and value 2. */
  stringMap(no: number): Record<string, string> {
    return Object.fromEntries(this.messages(no).map((entry) => [entry.string(1), entry.string(2)]));
  }
}
