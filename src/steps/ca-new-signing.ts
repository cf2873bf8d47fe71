import { caPhaseStep } from '../certs/ca-rotation-step.js';

export const caNewSigning = caPhaseStep('new-signing');
