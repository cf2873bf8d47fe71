import { isIP } from 'node:net';

export interface Cidr {
  family: 4 | 6;
  network: bigint;
  prefix: number;
}

function v4ToBigInt(address: string): bigint {
  return address.split('.').reduce((acc, part) => (acc << 8n) + BigInt(Number(part)), 0n);
}

function v6ToBigInt(address: string): bigint {
  let text = address;
  const v4Tail = text.match(/(\d+\.\d+\.\d+\.\d+)$/);
  if (v4Tail?.[1]) {
    const n = v4ToBigInt(v4Tail[1]);
    text = `${text.slice(0, -v4Tail[1].length)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headParts = head ? head.split(':') : [];
  const tailParts = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? 0 : 8 - headParts.length - tailParts.length;
  const groups = [...headParts, ...Array<string>(zeros).fill('0'), ...tailParts];
  return groups.reduce((acc, g) => (acc << 16n) + BigInt(Number.parseInt(g, 16)), 0n);
}

export function ipToBigInt(address: string): { family: 4 | 6; value: bigint } {
  const family = isIP(address);
  if (family === 4) return { family, value: v4ToBigInt(address) };
  if (family === 6) return { family, value: v6ToBigInt(address) };
  throw new Error(`not an IP address: ${address}`);
}

function bigIntToIp(family: 4 | 6, value: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.');
  const groups: string[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) groups.push(((value >> s) & 0xffffn).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

export function parseCidr(text: string): Cidr | undefined {
  const [address, prefixText, ...rest] = text.split('/');
  if (!address || prefixText === undefined || rest.length > 0 || !/^\d{1,3}$/.test(prefixText))
    return undefined;
  const family = isIP(address);
  if (family !== 4 && family !== 6) return undefined;
  const prefix = Number(prefixText);
  const bits = family === 4 ? 32 : 128;
  if (prefix > bits) return undefined;
  const { value } = ipToBigInt(address);
  const hostBits = BigInt(bits - prefix);
  return { family, network: (value >> hostBits) << hostBits, prefix };
}

export function cidrSize(cidr: Cidr): bigint {
  return 1n << BigInt((cidr.family === 4 ? 32 : 128) - cidr.prefix);
}

export function cidrContains(cidr: Cidr, address: string): boolean {
  const ip = ipToBigInt(address);
  return ip.family === cidr.family && ip.value >= cidr.network && ip.value < cidr.network + cidrSize(cidr);
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  return a.network < b.network + cidrSize(b) && b.network < a.network + cidrSize(a);
}

/** The n-th address of a network (n = 1 is the first usable one). */
export function nthAddress(cidr: Cidr, n: number): string {
  return bigIntToIp(cidr.family, cidr.network + BigInt(n));
}

/** An address as the host part of a URL: an IPv6 address in brackets. */
export function urlHost(address: string): string {
  return isIP(address) === 6 ? `[${address}]` : address;
}

/** scheme://address:port with the address bracketed when it is IPv6. */
export function hostUrl(scheme: 'https' | 'http', address: string, port: number): string {
  return `${scheme}://${urlHost(address)}:${port}`;
}

/** The address a URL points at (brackets of IPv6 removed, compressed form), or undefined if it is not a URL. */
export function addressOfUrl(url: string): string | undefined {
  if (!URL.canParse(url)) return undefined;
  const host = new URL(url).hostname;
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** Whether two addresses are the same, whatever their spelling (IPv6 compression, case). */
export function sameAddress(a: string, b: string): boolean {
  if (a === b) return true;
  const fa = isIP(a);
  if (fa === 0 || fa !== isIP(b)) return a.toLowerCase() === b.toLowerCase();
  return ipToBigInt(a).value === ipToBigInt(b).value;
}
