import type { HostSpec } from '../../inventory/schema.js';
import { sh } from '../../transport/quote.js';
import { apiserverUrl } from './apiserver.js';
import { CONTROLLER_MANAGER_PORT } from './controller-manager.js';
import { K8S_PATHS } from './paths.js';
import { SCHEDULER_PORT } from './scheduler.js';

/** A control-plane component's health endpoint as a master checks it on itself. */
export interface HealthEndpoint {
  service: string;
  url: string;
  /** curl's TLS options: the cluster CA, or -k for a self-signed serving cert on 127.0.0.1. */
  tls: string[];
}

export function controlPlaneEndpoints(master: HostSpec): HealthEndpoint[] {
  const local = (port: number) => `https://127.0.0.1:${port}/healthz`;
  return [
    { service: 'kube-apiserver', url: `${apiserverUrl(master)}/readyz`, tls: ['--cacert', K8S_PATHS.caCert] },
    // Their serving certs are self-signed and bound to 127.0.0.1 only.
    { service: 'kube-controller-manager', url: local(CONTROLLER_MANAGER_PORT), tls: ['-k'] },
    { service: 'kube-scheduler', url: local(SCHEDULER_PORT), tls: ['-k'] },
  ];
}

/**
 * A script that waits up to `seconds` for every endpoint to answer 200, then exits 0; on
 * timeout it prints, per endpoint still failing, the answer (readyz?verbose names the failing
 * checks) and the service's last journal lines on stderr, and exits 1.
 */
export function waitHealthyScript(endpoints: readonly HealthEndpoint[], seconds: number): string {
  const probe = (e: HealthEndpoint) => sh`curl -sf --max-time 3 ${e.tls} ${e.url} >/dev/null 2>&1`;
  const all = endpoints.map(probe).join(' && ');
  const report = endpoints.map(
    (e) =>
      `if ! ${probe(e)}; then ${sh`echo ${`${e.service} not healthy at ${e.url}:`} >&2; curl -s --max-time 3 ${e.tls} ${`${e.url}?verbose`} 2>&1 | tail -n 15 >&2; journalctl -u ${e.service} -n 8 --no-pager -q 2>/dev/null | cut -c1-300 >&2`}; fi`,
  );
  return [
    `end=$(( $(date +%s) + ${seconds} ))`,
    'while [ "$(date +%s)" -lt "$end" ]; do',
    `  if ${all}; then exit 0; fi`,
    '  sleep 1',
    'done',
    ...report,
    'exit 1',
  ].join('\n');
}
