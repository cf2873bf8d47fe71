import { execa } from 'execa';
import { z } from 'zod';

const links = z.array(z.object({ ifname: z.string() }).loose());

export async function linkExists(name: string): Promise<boolean> {
  const result = await execa('ip', ['-j', 'link', 'show', 'dev', name], { reject: false });
  return result.exitCode === 0 && links.parse(JSON.parse(result.stdout || '[]')).length > 0;
}

/** Creates the bridge, or adopts one left behind by an earlier run. */
export async function ensureBridge(name: string, gateway: string): Promise<void> {
  if (!(await linkExists(name))) await execa('ip', ['link', 'add', name, 'type', 'bridge']);
  await execa('ip', ['addr', 'replace', `${gateway}/24`, 'dev', name]);
  await execa('ip', ['link', 'set', name, 'up']);
}

/**
 * Puts a running machine's host-side veth (nspawn names it vb-<machine>) back on the bridge:
 * a bridge deleted and created again while machines ran leaves them cut off.
 */
export async function attachVeth(bridge: string, machine: string): Promise<void> {
  const veth = `vb-${machine}`;
  if (veth.length > 15 || !(await linkExists(veth))) return;
  await execa('ip', ['link', 'set', veth, 'master', bridge]);
}

export async function removeBridge(name: string): Promise<void> {
  if (await linkExists(name)) await execa('ip', ['link', 'del', name]);
}

const addresses = z.array(
  z
    .object({
      ifname: z.string(),
      addr_info: z.array(z.object({ local: z.string().optional() }).loose()).default([]),
    })
    .loose(),
);

/** Third octets of the 10.77.X.0/24 networks on this machine's interfaces (a lab's own bridge aside). */
export async function takenLabSubnets(prefix: string, exceptLink: string): Promise<Set<number>> {
  const result = await execa('ip', ['-j', '-4', 'addr', 'show']);
  const taken = new Set<number>();
  for (const link of addresses.parse(JSON.parse(result.stdout || '[]'))) {
    if (link.ifname === exceptLink) continue;
    for (const info of link.addr_info) {
      if (info.local?.startsWith(`${prefix}.`)) taken.add(Number(info.local.split('.')[2]));
    }
  }
  return taken;
}
