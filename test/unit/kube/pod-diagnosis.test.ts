import { describe, expect, it } from 'vitest';
import { describePod, isCrashLooping, latestWarnings } from '../../../src/kube/pod-diagnosis.js';
import { eventSchema, podSchema } from '../../../src/kube/schemas.js';

const pod = (status: object, nodeName?: string) =>
  podSchema.parse({ metadata: { name: 'flannel-x', uid: 'u1' }, spec: nodeName ? { nodeName } : {}, status });

describe('describePod', () => {
  it('names an unscheduled pod and why the scheduler left it', () => {
    const unschedulable = pod({
      phase: 'Pending',
      conditions: [
        {
          type: 'PodScheduled',
          status: 'False',
          reason: 'Unschedulable',
          message:
            '0/3 nodes are available: 3 node(s) had untolerated taint {node.kubernetes.io/not-ready: }.',
        },
      ],
    });
    expect(describePod(unschedulable)).toBe(
      'flannel-x (not scheduled): Unschedulable: 0/3 nodes are available: 3 node(s) had untolerated taint {node.kubernetes.io/not-ready: }.',
    );
  });

  it('skips init containers that finished, and reports a failed one and a running container not ready', () => {
    const running = {
      name: 'kube-flannel',
      ready: false,
      state: { running: { startedAt: 'x' } },
      lastState: {},
    };
    const done = {
      name: 'install-cni',
      ready: true,
      state: { terminated: { exitCode: 0, reason: 'Completed' } },
    };
    const failed = {
      name: 'install-cni-plugin',
      ready: false,
      state: { terminated: { exitCode: 2, reason: 'Error' } },
    };
    expect(describePod(pod({ initContainerStatuses: [done], containerStatuses: [running] }, 'w1'))).toBe(
      'flannel-x (w1): kube-flannel running, not ready',
    );
    expect(describePod(pod({ initContainerStatuses: [done, failed], containerStatuses: [] }, 'w1'))).toBe(
      'flannel-x (w1): install-cni-plugin exited 2: Error',
    );
  });

  it('cuts long messages and adds the last warning event', () => {
    const waiting = { name: 'c', state: { waiting: { reason: 'ErrImagePull', message: 'x'.repeat(1000) } } };
    const event = eventSchema.parse({
      type: 'Warning',
      reason: 'FailedCreatePodSandBox',
      message: 'plugin type="flannel" failed (add): open /run/flannel/subnet.env: no such file or directory',
      involvedObject: { uid: 'u1' },
    });
    const text = describePod(pod({ containerStatuses: [waiting] }, 'w2'), event);
    expect(text).toMatch(
      /^flannel-x \(w2\): c ErrImagePull: x{237}\.\.\.; last warning: FailedCreatePodSandBox: plugin/,
    );
  });
});

describe('latestWarnings', () => {
  it('keeps the latest warning per object, ignoring normal events', () => {
    const event = (uid: string, type: string, reason: string, lastTimestamp: string) =>
      eventSchema.parse({ type, reason, lastTimestamp, involvedObject: { uid } });
    const latest = latestWarnings([
      event('a', 'Warning', 'BackOff', '2025-01-01T00:00:05Z'),
      event('a', 'Warning', 'Failed', '2025-01-01T00:00:01Z'),
      event('a', 'Normal', 'Pulling', '2025-01-01T00:00:09Z'),
      event('b', 'Normal', 'Started', '2025-01-01T00:00:09Z'),
    ]);
    expect([...latest].map(([uid, e]) => [uid, e.reason])).toEqual([['a', 'BackOff']]);
  });
});

describe('isCrashLooping', () => {
  const looping = (restartCount: number, reason = 'CrashLoopBackOff') =>
    pod({
      containerStatuses: [
        { name: 'kube-flannel', ready: false, restartCount, state: { waiting: { reason } } },
      ],
    });

  it('is a container in CrashLoopBackOff that has restarted three times or more', () => {
    expect(isCrashLooping(looping(3))).toBe(true);
    expect(isCrashLooping(looping(2))).toBe(false);
    expect(isCrashLooping(looping(5, 'ImagePullBackOff'))).toBe(false);
    expect(isCrashLooping(pod({}))).toBe(false);
  });

  it('counts init containers too', () => {
    const init = pod({
      initContainerStatuses: [
        {
          name: 'install-cni',
          ready: false,
          restartCount: 4,
          state: { waiting: { reason: 'CrashLoopBackOff' } },
        },
      ],
    });
    expect(isCrashLooping(init)).toBe(true);
  });
});
