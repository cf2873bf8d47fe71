import { hostCertFiles } from '../certs/host-certs.js';
import { type CertReading, certsReadScript, parseCertsRead } from '../certs/read.js';
import { CERT_READINGS } from '../certs/run-keys.js';
import { mapLimit } from '../engine/limit.js';
import { runData } from '../engine/run-data.js';
import type { DeployStep } from '../engine/step.js';
import { InterruptedError } from '../errors.js';

/**
 * Reads every certificate kubesmith installed on every host: one command per host (a sectioned
 * read of the PEM files and kubeconfigs), parsed here. A host whose read fails gets one reading
 * that says so; the others are still read.
 */
export const certsRead: DeployStep = {
  id: 'certs-read',
  title: 'certificates read from every host',
  onDeployMachine: true,
  readOnly: true,
  async run(ctx) {
    const perHost = await mapLimit(ctx.hosts, ctx.inventory.ssh.concurrency, async (host) => {
      const files = hostCertFiles(host);
      if (files.length === 0) return [];
      const read = certsReadScript(files);
      try {
        const result = await ctx.conn(host.name).run(['sh', '-c', read.script], { signal: ctx.signal });
        return parseCertsRead(host.name, files, read.parse(result.stdout));
      } catch (error) {
        if (ctx.signal.aborted) throw new InterruptedError();
        return [
          {
            host: host.name,
            file: '(all)',
            id: '',
            problem: 'unreadable',
            detail: (error as Error).message,
          } satisfies CertReading,
        ];
      }
    });
    const readings = perHost.flat();
    runData(ctx.shared).set(CERT_READINGS, readings);
    ctx.log(`${readings.length} certificate(s) read on ${ctx.hosts.length} host(s)`);
  },
};
