import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONTAINERD_PATHS, criConfigProblems } from '../../../src/components/containerd.js';
import { parseStatus, parseVersion } from '../../../src/cri/runtime.js';

// Recorded from Debian's containerd 1.6.20 in a lab machine after `setup 03` (pause image from
// registry.k8s.io, systemd cgroups, certs.d), through the same socat + gRPC path the step uses.
const fixture = (name: string) => readFileSync(join(import.meta.dirname, '../../fixtures/cri', name));
const SANDBOX = 'registry.k8s.io/pause:3.10.1';

describe('CRI replies recorded from a real containerd', () => {
  it('reads Version', () => {
    expect(parseVersion(fixture('containerd-1.6.20-version.bin'))).toEqual({
      runtimeName: 'containerd',
      runtimeVersion: '1.6.20~ds1',
      runtimeApiVersion: 'v1',
    });
  });

  it('reads Status: runtime ready, network not ready before a CNI config, the effective config', () => {
    const status = parseStatus(fixture('containerd-1.6.20-status-verbose.bin'));
    expect(status.conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['RuntimeReady', true, ''],
      ['NetworkReady', false, 'NetworkPluginNotReady'],
    ]);
    expect(Object.keys(status.info)).toContain('config');
    expect(criConfigProblems(status.info, SANDBOX)).toEqual([]);
  });

  it('names every way the loaded config differs from the rendered one', () => {
    const { info } = parseStatus(fixture('containerd-1.6.20-status-verbose.bin'));
    const config = JSON.parse(info.config!);
    config.containerd.runtimes.runc.options.SystemdCgroup = false;
    config.registry.configPath = '';
    const problems = criConfigProblems({ config: JSON.stringify(config) }, 'mirror.example/pause:3.10.1');
    expect(problems).toEqual([
      `sandbox image is ${SANDBOX}, not mirror.example/pause:3.10.1`,
      'runc does not use the systemd cgroup driver',
      `registry config path is '', not ${CONTAINERD_PATHS.certsDir}`,
    ]);
    expect(criConfigProblems({}, SANDBOX)).toEqual(['the runtime did not report its config']);
  });
});
