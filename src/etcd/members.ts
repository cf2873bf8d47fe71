import { PEER_PORT } from '../components/etcd.js';
import { addressOfUrl, sameAddress } from '../inventory/net.js';
import type { HostSpec } from '../inventory/schema.js';
import type { Member } from './ops.js';

/** etcd prints member IDs as decimal in JSON; etcdctl takes them in hex. */
export const hexId = (id: string) => BigInt(id).toString(16);

/** Whether a peer URL points at this host's etcd peer port (IPv6 in any spelling). */
function pointsAt(url: string, host: Pick<HostSpec, 'address'>): boolean {
  const address = addressOfUrl(url);
  if (address === undefined || !sameAddress(address, host.address)) return false;
  return new URL(url).port === String(PEER_PORT);
}

/**
 * The member that is this host, found by peer URL: a member added but never started has no
 * name yet, so names cannot be trusted to find it.
 */
export function memberOf(host: Pick<HostSpec, 'address'>, members: readonly Member[]): Member | undefined {
  return members.find((m) => m.peerURLs.some((u) => pointsAt(u, host)));
}

/** Members whose peer URL is no host of the inventory's etcd group. */
export function strangers(members: readonly Member[], hosts: readonly HostSpec[]): Member[] {
  return members.filter((m) => !hosts.some((h) => memberOf(h, [m])));
}

/** A member as people know it: its inventory host name, else its own name, else its ID. */
export function memberLabel(member: Member, hosts: readonly HostSpec[]): string {
  return hosts.find((h) => memberOf(h, [member]))?.name ?? (member.name || `member ${hexId(member.ID)}`);
}

/**
 * --initial-cluster for a member joining now: every current member by name and peer URL, the
 * joining one (not started, so without a name) under its host name.
 */
export function joiningInitialCluster(members: readonly Member[], joining: Member, name: string): string {
  return members.map((m) => `${m.ID === joining.ID ? name : m.name}=${m.peerURLs[0]}`).join(',');
}

export type JoinAction = 'skip' | 'promote' | 'start' | 'add';

/**
 * What add-etcd does for a host, from the membership: already voting, a started learner
 * (promote), a learner left unstarted by an earlier failed run (start it, then promote), or new.
 */
export function joinAction(host: HostSpec, members: readonly Member[]): JoinAction {
  const member = memberOf(host, members);
  if (!member) return 'add';
  if (!member.name) return 'start';
  return member.isLearner ? 'promote' : 'skip';
}
