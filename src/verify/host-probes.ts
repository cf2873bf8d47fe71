import { clientEndpoints, etcdctl } from '../components/etcd.js';
import { APISERVER_PORT } from '../components/kubeconfig.js';
import { needsLocalBalancer } from '../components/kubernetes/haproxy.js';
import { controlPlaneEndpoints } from '../components/kubernetes/health.js';
import { K8S_PATHS } from '../components/kubernetes/paths.js';
import { type Section, sectionedRead } from '../hostlib/sections.js';
import type { HostSpec, Inventory } from '../inventory/schema.js';
import { sh } from '../transport/quote.js';

/** What one host answered to the read-only probes of verify, by section name. */
export interface HostProbe {
  host: string;
  /** Section name -> output; absent when the host could not be asked. */
  sections?: Record<string, string>;
  error?: string;
}

export const KUBE_PROXY_HEALTHZ = 'http://127.0.0.1:10256/healthz';

/** The body, then the HTTP status on a line of its own (000 when nothing answered). */
const curlWithStatus = (tls: string[], url: string) =>
  sh`${['curl', '-s', '--max-time', '5', ...tls, '-w', '\n%{http_code}', url]} || true`;

export const isKubeHost = (host: HostSpec) => host.roles.includes('master') || host.roles.includes('node');

/** The units a kube host runs, in the order the `units` section lists their states. */
export function expectedUnits(host: HostSpec, inv: Inventory): string[] {
  const units = ['containerd', 'kubelet', 'kube-proxy'];
  if (needsLocalBalancer(inv)) units.push('haproxy');
  if (host.roles.includes('master'))
    units.push('kube-apiserver', 'kube-controller-manager', 'kube-scheduler');
  return units;
}

/** The expected units of a host its probe found not active, as `unit state`. */
export function inactiveUnits(probe: HostProbe, host: HostSpec, inv: Inventory): string[] {
  const states = (probe.sections?.units ?? '').trim().split('\n');
  return expectedUnits(host, inv).flatMap((unit, i) =>
    states[i] === 'active' ? [] : [`${unit} ${states[i] || 'unknown'}`],
  );
}

/**
 * One command per host: unit states, kube-proxy's and the local balancer's answers, each
 * control-plane component's health (masters), and etcd's own JSON views (the `etcdVia` host).
 */
export function hostProbeSections(host: HostSpec, inv: Inventory, etcdVia: boolean): Section[] {
  const sections: Section[] = [];
  if (isKubeHost(host)) {
    sections.push(['units', sh`systemctl is-active ${expectedUnits(host, inv)} || true`]);
    sections.push(['proxy', curlWithStatus([], KUBE_PROXY_HEALTHZ)]);
    if (needsLocalBalancer(inv))
      sections.push([
        'balancer',
        curlWithStatus(['--cacert', K8S_PATHS.caCert], `https://127.0.0.1:${APISERVER_PORT}/readyz`),
      ]);
  }
  if (host.roles.includes('master')) {
    const [apiserver, controllerManager, scheduler] = controlPlaneEndpoints(host);
    sections.push(['readyz', curlWithStatus(apiserver!.tls, `${apiserver!.url}?verbose`)]);
    sections.push(['controllermanager', curlWithStatus(controllerManager!.tls, controllerManager!.url)]);
    sections.push(['scheduler', curlWithStatus(scheduler!.tls, scheduler!.url)]);
  }
  if (etcdVia) {
    const all = clientEndpoints(inv);
    // For members that do not answer, etcdctl prints to stderr: their absence from the JSON tells.
    const json = (...args: string[]) => sh`${etcdctl(all, ...args, '-w', 'json')} 2>/dev/null || true`;
    sections.push(['etcdhealth', json('endpoint', 'health')]);
    sections.push(['etcdstatus', json('endpoint', 'status')]);
    sections.push(['etcdmembers', json('member', 'list')]);
    sections.push(['etcdalarms', json('alarm', 'list')]);
  }
  return sections;
}

/** The probe script of a host and how to read its output. */
export function hostProbe(host: HostSpec, inv: Inventory, etcdVia: boolean) {
  return sectionedRead(hostProbeSections(host, inv, etcdVia));
}

/** `body\nstatus` as curlWithStatus prints it. */
export function splitHttp(output: string | undefined): { status: number; body: string } {
  const text = (output ?? '').replace(/\n$/, '');
  const cut = text.lastIndexOf('\n');
  const status = Number(text.slice(cut + 1).trim());
  return { status: Number.isFinite(status) ? status : 0, body: cut < 0 ? '' : text.slice(0, cut) };
}
