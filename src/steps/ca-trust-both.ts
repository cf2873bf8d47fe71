import { caPhaseStep } from '../certs/ca-rotation-step.js';

export const caTrustBoth = caPhaseStep('trust-both');
