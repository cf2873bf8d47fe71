import type { ContainerState, KubeEvent, Pod } from './schemas.js';

/** Container messages can be long (a pull error's whole registry answer): each is cut to this many characters. */
const MAX_MESSAGE = 240;

const clip = (text: string) => (text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE - 3)}...` : text);
const phrase = (...parts: (string | undefined)[]) =>
  parts
    .filter((p): p is string => !!p)
    .map((p) => clip(p.trim()))
    .join(': ');

function describeState(state: ContainerState): string | undefined {
  if (state.waiting) return phrase(state.waiting.reason ?? 'waiting', state.waiting.message);
  if (state.terminated)
    return phrase(`exited ${state.terminated.exitCode}`, state.terminated.reason, state.terminated.message);
  return undefined;
}

type ContainerStatus = Pod['status']['containerStatuses'][number];

/** Its state now, and how it last ended (a crash loop's cause is there, not in its waiting state). */
function describeContainer(container: ContainerStatus): string {
  const now = describeState(container.state) ?? 'running, not ready';
  const last =
    container.lastState.terminated && describeState({ terminated: container.lastState.terminated });
  return `${container.name} ${now}${last ? ` (last: ${last})` : ''}`;
}

export const isPodReady = (pod: Pod) =>
  pod.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True');

const finished = (container: ContainerStatus) => container.state.terminated?.exitCode === 0;

/** Restarts after which a crash loop is taken as lasting (kubelet's back-off is then 40 s and growing). */
const CRASH_LOOP_RESTARTS = 3;

/** A container of the pod is in CrashLoopBackOff and has restarted several times already. */
export const isCrashLooping = (pod: Pod) =>
  [...pod.status.initContainerStatuses, ...pod.status.containerStatuses].some(
    (c) => c.state.waiting?.reason === 'CrashLoopBackOff' && c.restartCount >= CRASH_LOOP_RESTARTS,
  );

/** Why the pod is not ready: containers first, else its conditions (e.g. Unschedulable), else its phase. */
function whyNotReady(pod: Pod): string {
  const { initContainerStatuses, containerStatuses, conditions, phase, reason, message } = pod.status;
  const containers = [...initContainerStatuses.filter((c) => !finished(c)), ...containerStatuses];
  const notReady = containers.filter((c) => !c.ready).map(describeContainer);
  if (notReady.length) return notReady.join('; ');
  const failing = conditions.find((c) => c.status !== 'True' && (c.reason || c.message));
  if (failing) return phrase(failing.reason ?? `${failing.type} ${failing.status}`, failing.message);
  return phrase(phase ?? 'no status yet', reason, message);
}

/** `pod (node): why`, with the pod's last warning event, which often says more (a sandbox or volume failure). */
export function describePod(pod: Pod, lastWarning?: KubeEvent): string {
  const where = pod.spec.nodeName ?? 'not scheduled';
  const event = lastWarning && phrase(lastWarning.reason, lastWarning.message);
  return `${pod.metadata.name} (${where}): ${whyNotReady(pod)}${event ? `; last warning: ${event}` : ''}`;
}

const eventTime = (event: KubeEvent) => event.lastTimestamp ?? event.eventTime ?? '';

/** The latest warning per involved object uid. */
export function latestWarnings(events: KubeEvent[]): Map<string, KubeEvent> {
  const latest = new Map<string, KubeEvent>();
  for (const event of events) {
    const uid = event.involvedObject.uid;
    if (!uid || event.type !== 'Warning') continue;
    const seen = latest.get(uid);
    if (!seen || eventTime(event) >= eventTime(seen)) latest.set(uid, event);
  }
  return latest;
}
