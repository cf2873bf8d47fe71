import { describe, expect, it } from 'vitest';
import { decode, encodeBool, encodeString, Message } from '../../../src/cri/protobuf.js';

describe('protobuf wire format (the subset the CRI calls use)', () => {
  it('encodes strings and bools as the spec says', () => {
    // Field 1, wire type 2, length 2, "v1" / field 1, wire type 0, value 1.
    expect(encodeString(1, 'v1').toString('hex')).toBe('0a027631');
    expect(encodeBool(1, true).toString('hex')).toBe('0801');
    expect(encodeString(20, 'x'.repeat(200)).subarray(0, 4).toString('hex')).toBe('a201c801');
  });

  it('reads nested messages, maps and bools, skipping fixed-width fields', () => {
    const condition = Buffer.concat([encodeString(1, 'RuntimeReady'), encodeBool(2, true)]);
    const status = Buffer.concat([Buffer.from([0x0a, condition.length]), condition]);
    const entry = Buffer.concat([encodeString(1, 'config'), encodeString(2, '{"a":1}')]);
    const fixed64 = Buffer.from([0x19, 1, 2, 3, 4, 5, 6, 7, 8]);
    const reply = Buffer.concat([
      Buffer.from([0x0a, status.length]),
      status,
      fixed64,
      Buffer.from([0x12, entry.length]),
      entry,
    ]);
    const message = Message.parse(reply);
    const [parsed] = message.messages(1)[0]!.messages(1);
    expect(parsed!.string(1)).toBe('RuntimeReady');
    expect(parsed!.bool(2)).toBe(true);
    expect(message.stringMap(2)).toEqual({ config: '{"a":1}' });
  });

  it('refuses truncated input instead of reading past it', () => {
    expect(() => decode(Buffer.from([0x0a, 0x05, 0x61]))).toThrow(/truncated/);
    expect(() => decode(Buffer.from([0x08, 0x80]))).toThrow(/truncated/);
  });
});
