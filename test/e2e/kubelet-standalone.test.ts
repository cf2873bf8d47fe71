import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAB_KUBERNETES_VERSIONS } from '../../src/lab/build/recipes.js';
import { bundleDir } from '../../src/lab/state.js';
import { skipWithout } from '../helpers/prerequisite.js';
import { E2E_HOME, kubesmith, labShell, labUnavailable } from './harness.js';

/**
 * Before any control plane exists: the lab's own kubelet (built from k8s.io/kubernetes) runs
 * static pods of the bundle's images on a lab machine prepared by setup 01 and 03, proving
 * the machines can run Kubernetes workloads at all.
 */
const unavailable = skipWithout('kubelet e2e', labUnavailable());

const LAB = 'e2e-kubelet';
const shell = labShell(LAB);
const POD_SUBNET = '10.244.77.0/24';
const AGNHOST = 'registry.k8s.io/e2e-test-images/agnhost:2.56';

/** 1.35 refuses cgroup v1 (this machine's) unless told otherwise. */
const kubeletConfig = (version: string) =>
  `${KUBELET_CONFIG}${version.startsWith('1.34.') ? '' : 'failCgroupV1: false\n'}`;

const KUBELET_CONFIG = `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
staticPodPath: /etc/kubernetes/manifests
cgroupDriver: systemd
containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
readOnlyPort: 0
failSwapOn: false
imageGCHighThresholdPercent: 100
evictionHard: {nodefs.available: "0%", nodefs.inodesFree: "0%", imagefs.available: "0%"}
`;

const CNI = JSON.stringify({
  cniVersion: '1.0.0',
  name: 'standalone',
  plugins: [
    {
      type: 'bridge',
      bridge: 'cni0',
      isGateway: true,
      ipMasq: true,
      ipam: { type: 'host-local', ranges: [[{ subnet: POD_SUBNET }]], routes: [{ dst: '0.0.0.0/0' }] },
    },
    { type: 'portmap', capabilities: { portMappings: true } },
  ],
});

function netexecPod(name: string, port: number, hostNetwork: boolean): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: default}
spec:
  hostNetwork: ${hostNetwork}
  containers:
  - name: agnhost
    image: ${AGNHOST}
    imagePullPolicy: Never
    args: ["netexec", "--http-port=${port}", "--udp-port=-1"]
`;
}

interface CriPods {
  items: { metadata: { name: string }; state: string }[];
}

async function readyPods(): Promise<string[]> {
  const pods = JSON.parse(await shell.run(0, 'crictl pods -o json')) as CriPods;
  return pods.items.filter((p) => p.state === 'SANDBOX_READY').map((p) => p.metadata.name);
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, seconds = 90): Promise<T> {
  for (let i = 0; i < seconds; i++) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await sleep(1000);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function httpGet(url: string): Promise<string | undefined> {
  const response = await fetch(url, { signal: AbortSignal.timeout(3000) }).catch(() => undefined);
  return response?.ok ? await response.text() : undefined;
}

describe.skipIf(unavailable)(
  'a standalone kubelet on a lab machine runs static pods of the bundle images',
  () => {
    let address = '';
    let routed = false;
    beforeAll(async () => {
      await kubesmith('lab', 'down', '--name', LAB);
      rmSync(shell.clusterDir, { recursive: true, force: true });
      const up = await kubesmith('lab', 'up', '1', '--name', LAB);
      expect(up.exitCode, up.all).toBe(0);
      [address = ''] = shell.learn(up.stdout);
      for (const step of ['01', '03']) {
        const setup = await kubesmith('setup', LAB, step);
        expect(setup.exitCode, setup.all).toBe(0);
      }
    });
    afterAll(async () => {
      if (routed) await execa('ip', ['route', 'del', POD_SUBNET], { reject: false });
      await kubesmith('lab', 'down', '--name', LAB);
    });

    it.each(LAB_KUBERNETES_VERSIONS)(
      'kubelet %s runs a host-network pod and a CNI-bridge pod, both answering the deploy machine, and removes them with their manifests',
      async (version) => {
        await shell.copy(0, join(bundleDir(E2E_HOME, version), 'bin', 'kubelet'), '/usr/local/bin/kubelet');
        expect(await shell.run(0, 'kubelet --version')).toBe(`Kubernetes v${version}`);
        await shell.run(
          0,
          [
            'mkdir -p /etc/kubernetes/manifests /etc/kubelet-standalone',
            `printf '%s' '${kubeletConfig(version)}' > /etc/kubelet-standalone/config.yaml`,
            `printf '%s' '${CNI}' > /etc/cni/net.d/10-standalone.conflist`,
            `printf '%s' '${netexecPod('netexec-host', 8080, true)}' > /etc/kubernetes/manifests/host.yaml`,
            `printf '%s' '${netexecPod('netexec-pod', 8081, false)}' > /etc/kubernetes/manifests/pod.yaml`,
            'systemctl reset-failed kubelet-standalone 2>/dev/null || true',
            'systemd-run --unit kubelet-standalone /usr/local/bin/kubelet --config /etc/kubelet-standalone/config.yaml',
          ].join(' && '),
        );
        const names = await until('both static pods ready', async () => {
          const ready = await readyPods();
          return ready.length === 2 ? ready.sort() : undefined;
        });
        expect(names).toEqual([`netexec-host-${LAB}-1`, `netexec-pod-${LAB}-1`]);

        expect(
          await until('netexec on the host network', () => httpGet(`http://${address}:8080/hostname`)),
        ).toBe(`${LAB}-1`);
        const podIp = JSON.parse(
          await shell.run(
            0,
            `crictl inspectp $(crictl pods -q --state ready --name netexec-pod) 2>/dev/null`,
          ),
        ).status.network.ip as string;
        expect(podIp.startsWith(POD_SUBNET.split('.').slice(0, 3).join('.'))).toBe(true);
        await execa('ip', ['route', 'replace', POD_SUBNET, 'via', address]);
        routed = true;
        // The pod's own hostname is the pod name: the answer comes from inside the bridged pod.
        expect(await until('netexec on the pod IP', () => httpGet(`http://${podIp}:8081/hostname`))).toBe(
          `netexec-pod-${LAB}-1`,
        );

        await shell.run(0, 'rm -f /etc/kubernetes/manifests/host.yaml /etc/kubernetes/manifests/pod.yaml');
        await until('no ready pods', async () => ((await readyPods()).length === 0 ? true : undefined));
        expect(await shell.run(0, 'crictl ps -q')).toBe('');
        await shell.run(0, 'systemctl stop kubelet-standalone');
      },
    );
  },
);
