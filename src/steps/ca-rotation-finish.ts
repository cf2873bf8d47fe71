import { join } from 'node:path';
import type { DeployStep } from '../engine/step.js';
import { finishRotation } from '../pki/rotation.js';

/** After the last rollout and the health checks: the rotation's old and new CA copies kept aside. */
export const caRotationFinish: DeployStep = {
  id: 'ca-rotation-finish',
  title: 'CA rotation finished: the old CAs and the record kept under pki/retired/',
  onDeployMachine: true,
  async run(ctx) {
    if (ctx.dryRun) return ctx.log('would keep the old CAs under pki/retired/ [dry run: not written]');
    const place = await finishRotation(join(ctx.clusterDir, 'pki'));
    ctx.log(place ? `pki: the old CAs and the rotation record kept in ${place}` : 'no CA rotation recorded');
  },
};
