import { render } from '../../engine/template.js';
import { urlHost } from '../../inventory/net.js';
import type { Inventory } from '../../inventory/schema.js';
import { masters } from '../../pki/kubernetes-spec.js';
import { APISERVER_PORT } from '../kubeconfig.js';

/** Whether hosts run the local balancer: only when no control-plane endpoint is given. */
export const needsLocalBalancer = (inv: Inventory) => inv.cluster.controlPlaneEndpoint === '';

/**
 * haproxy on 127.0.0.1:6443 forwarding TCP to every master's apiserver. A backend is in rotation
 * while GET /readyz over TLS answers 200 (anonymous access to /readyz is the apiserver's default);
 * three failed checks two seconds apart take it out. Long timeouts keep watches open.
 */
export function renderHaproxyConfig(inv: Inventory): string {
  return render('haproxy/haproxy.cfg', {
    cluster: inv.cluster.name,
    port: APISERVER_PORT,
    servers: masters(inv).map((m) => ({ name: m.name, address: `${urlHost(m.address)}:${APISERVER_PORT}` })),
  });
}

/** A systemd drop-in for the OS package's haproxy.service: always restarted, up before kubelet. */
export function renderHaproxyDropIn(): string {
  return render('haproxy/kubesmith.conf', {});
}
