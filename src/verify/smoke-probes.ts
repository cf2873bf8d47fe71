import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { KubeApi } from '../kube/types.js';
import { sh } from '../transport/quote.js';
import type { Check, CheckStatus } from './report.js';
import { SMOKE_PORT } from './smoke-objects.js';

/** A smoke pod as the probes use it. */
export interface SmokePod {
  name: string;
  node: string;
  ip: string;
}

/** Asks agnhost netexec in one pod, through the apiserver's pod proxy: its JSON, or why there is none. */
export type Ask = <T>(
  schema: z.ZodType<T>,
  path: string,
  query: Record<string, string>,
) => Promise<T | string>;

export function podAsker(api: KubeApi, namespace: string, pod: SmokePod): Ask {
  const proxy = `/api/v1/namespaces/${namespace}/pods/${pod.name}:${SMOKE_PORT}/proxy`;
  return async (schema, path, query) => {
    try {
      const answer = await api.rawGet(`${proxy}${path}`, query);
      if (answer.status !== 200) return `${answer.status} ${answer.body.trim().slice(0, 200)}`;
      const parsed = schema.safeParse(JSON.parse(answer.body));
      return parsed.success ? parsed.data : `unexpected answer: ${answer.body.trim().slice(0, 200)}`;
    } catch (error) {
      return (error as Error).message.split('\n')[0] ?? 'no answer';
    }
  };
}

const dialSchema = z.object({
  responses: z.array(z.string()).default([]),
  errors: z.array(z.string()).default([]),
});
const shellSchema = z.object({ output: z.string().default(''), error: z.string().optional() });

/** netexec's /dial: it resolves host once, then makes `tries` HTTP requests for /hostname. */
const dial = (ask: Ask, host: string, port: number, tries: number) =>
  ask(dialSchema, '/dial', {
    request: 'hostname',
    protocol: 'http',
    host,
    port: String(port),
    tries: String(tries),
  });

export const smokeCheck = (
  id: string,
  status: CheckStatus,
  summary: string,
  evidence: string[],
  hint?: string,
): Check => ({
  id: `smoke/${id}`,
  area: 'smoke',
  status,
  summary,
  evidence,
  ...(status !== 'ok' && hint ? { hint } : {}),
});

/** Each name resolved to the address wanted (fully qualified, each lookup cut short so a dead DNS fails fast). */
export async function dnsCheck(
  ask: Ask,
  from: string,
  wanted: [name: string, address: string][],
): Promise<Check> {
  const lookups = await ask(shellSchema, '/shell', {
    cmd: wanted.map(([name]) => sh`timeout 6 getent hosts ${`${name}.`}`).join('; '),
  });
  const resolved =
    typeof lookups === 'string'
      ? []
      : lookups.output
          .trim()
          .split('\n')
          .map((l) => l.split(/\s+/));
  const lines = wanted.map(([name, want]) => {
    const got = resolved.find((r) => r[1]?.replace(/\.$/, '') === name)?.[0];
    return {
      ok: got === want,
      line: `${name} -> ${got ?? 'no answer'}${got === want ? '' : ` (wanted ${want})`}`,
    };
  });
  const extra = typeof lookups === 'string' ? [lookups] : lookups.error ? [lookups.error] : [];
  return smokeCheck(
    'dns',
    lines.every((l) => l.ok) ? 'ok' : 'fail',
    `cluster DNS ${from}`,
    [...lines.map((l) => l.line), ...extra],
    'see addons/coredns; kubectl -n kube-system logs deploy/coredns',
  );
}

/** How long kube-proxy gets to program a just-created Service's endpoints on the client's node. */
const SERVICE_SETTLE_MS = 15_000;

/**
 * `tries` requests through the Service reach at least two pods (one when there is one). A
 * Service seconds old may still send everything to one pod (kube-proxy programs endpoints as
 * they become ready): asked again for up to 15 s before it counts as a failure.
 */
export async function serviceCheck(
  ask: Ask,
  from: string,
  target: string,
  tries: number,
  pods: number,
): Promise<Check> {
  const deadline = Date.now() + SERVICE_SETTLE_MS;
  let rounds = 0;
  for (;;) {
    rounds++;
    const answer = await dial(ask, target, 80, tries);
    const reached = typeof answer === 'string' ? [] : [...new Set(answer.responses)];
    const ok = typeof answer !== 'string' && !answer.errors.length && reached.length >= Math.min(2, pods);
    if (ok || Date.now() >= deadline)
      return smokeCheck(
        'service',
        ok ? 'ok' : 'fail',
        `${tries} requests to ${target} ${from} reached ${reached.length} pod(s)${rounds > 1 ? ` (round ${rounds})` : ''}`,
        typeof answer === 'string'
          ? [answer]
          : [...reached.map((r) => `answered: ${r}`), ...answer.errors.slice(0, 3)],
        'kube-proxy programs Services: systemctl status kube-proxy on the nodes',
      );
    await sleep(1000);
  }
}

/** Every pod on another node answers with its own name, one at a time (each ask is a channel of one SSH connection). */
export async function podToPodCheck(ask: Ask, from: string, remote: SmokePod[]): Promise<Check> {
  const lines: { ok: boolean; line: string }[] = [];
  for (const pod of remote) {
    const answer = await dial(ask, pod.ip, SMOKE_PORT, 1);
    const got =
      typeof answer === 'string' ? answer : (answer.responses[0] ?? answer.errors[0] ?? 'no answer');
    lines.push({ ok: got === pod.name, line: `${pod.name} (${pod.node}, ${pod.ip}): ${got}` });
  }
  return smokeCheck(
    'pod-to-pod',
    lines.every((l) => l.ok) ? 'ok' : 'fail',
    `pod to pod ${from} to ${remote.length} pod(s) on other nodes`,
    lines.map((l) => l.line),
    'the network plugin routes pods between nodes: see network/*',
  );
}

type NodePortAnswers = Map<string, { status: number; body: string }>;

const answeredByPod = (answer: { status: number; body: string }, pods: SmokePod[]) =>
  answer.status === 200 && pods.some((p) => p.name === answer.body.trim());

/** The nodes' answers on the NodePort, asked again for up to 15 s while any node has not programmed it yet. */
export async function settledNodePortAnswers(
  ask: () => Promise<NodePortAnswers>,
  pods: SmokePod[],
): Promise<NodePortAnswers> {
  const deadline = Date.now() + SERVICE_SETTLE_MS;
  for (;;) {
    const answers = await ask();
    if ([...answers.values()].every((a) => answeredByPod(a, pods)) || Date.now() >= deadline) return answers;
    await sleep(1000);
  }
}

/** Every node answered on the NodePort with the name of a smoke pod. */
export function nodePortCheck(port: number, answers: NodePortAnswers, pods: SmokePod[]): Check {
  const lines = [...answers].map(([host, a]) => ({
    ok: answeredByPod(a, pods),
    line: `${host}: ${a.status === 200 ? a.body.trim() : a.status || 'no answer'}`,
  }));
  const failing = lines.filter((l) => !l.ok);
  return smokeCheck(
    'nodeport',
    failing.length ? 'fail' : 'ok',
    failing.length
      ? `NodePort ${port} does not answer on ${failing.length} of ${lines.length} node(s)`
      : `NodePort ${port} answers on ${lines.length} node(s)`,
    lines.map((l) => l.line),
    'kube-proxy on the failing node: systemctl status kube-proxy',
  );
}
