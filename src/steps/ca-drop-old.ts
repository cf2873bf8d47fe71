import { caPhaseStep } from '../certs/ca-rotation-step.js';

export const caDropOld = caPhaseStep('drop-old');
