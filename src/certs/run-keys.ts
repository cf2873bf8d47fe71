import { dataKey } from '../engine/run-data.js';
import type { PkiChange } from '../pki/store.js';
import type { CertReading } from './read.js';

/** certs check: every certificate read on every host (the command judges and prints them). */
export const CERT_READINGS = dataKey<CertReading[]>('certs:readings');
/** certs renew: the leaf ids to reissue in the deploy machine's store. */
export const REISSUE_IDS = dataKey<ReadonlySet<string>>('certs:reissue-ids');
/** certs renew: what the reissue phase changed in the store. */
export const REISSUED = dataKey<PkiChange[]>('certs:reissued');
