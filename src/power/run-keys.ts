import { dataKey } from '../engine/run-data.js';

/** What destroy hands its host-retire phase (a RunData slot). */
export interface DestroyRequest {
  /** Names the directory etcd's data is kept aside in: `<dataDir>/kubesmith-removed-<stamp>`. */
  stamp: string;
  /** Delete etcd's data too, instead of keeping it aside on the member. */
  purge: boolean;
}
export const DESTROY_REQUEST = dataKey<DestroyRequest>('power:destroy-request');
