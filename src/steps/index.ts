import type { AnyStep } from '../engine/step.js';
import { addons } from './addons.js';
import { apiClientsRestart } from './api-clients-restart.js';
import { authTrustReset } from './auth-trust-reset.js';
import { caDropOld } from './ca-drop-old.js';
import { caNewSigning } from './ca-new-signing.js';
import { caRotationFinish } from './ca-rotation-finish.js';
import { caTrustBoth } from './ca-trust-both.js';
import { certsEtcd } from './certs-etcd.js';
import { certsKubeNode } from './certs-kube-node.js';
import { certsRead } from './certs-read.js';
import { certsReissue } from './certs-reissue.js';
import { clusterRefresh } from './cluster-refresh.js';
import { controlPlaneStart } from './control-plane-start.js';
import { controlPlaneStop } from './control-plane-stop.js';
import { etcd } from './etcd.js';
import { etcdJoin } from './etcd-join.js';
import { etcdJoinPlan } from './etcd-join-plan.js';
import { etcdLeave } from './etcd-leave.js';
import { etcdLeaveInventory } from './etcd-leave-inventory.js';
import { etcdLeavePlan } from './etcd-leave-plan.js';
import { etcdRestore } from './etcd-restore.js';
import { etcdRestoreVerify } from './etcd-restore-verify.js';
import { etcdRetire } from './etcd-retire.js';
import { etcdSnapshot } from './etcd-snapshot.js';
import { etcdStart } from './etcd-start.js';
import { etcdStop } from './etcd-stop.js';
import { health } from './health.js';
import { hostRetire } from './host-retire.js';
import { hostsFile } from './hosts-file.js';
import { images } from './images.js';
import { kubeAccess } from './kube-access.js';
import { kubeMaster } from './kube-master.js';
import { kubeNode } from './kube-node.js';
import { kubeNodeConfig } from './kube-node-config.js';
import { network } from './network.js';
import { nodeCordon } from './node-cordon.js';
import { nodeDelete } from './node-delete.js';
import { nodeDrain } from './node-drain.js';
import { nodeRetire } from './node-retire.js';
import { nodeStart } from './node-start.js';
import { nodeStop } from './node-stop.js';
import { nodeUncordon } from './node-uncordon.js';
import { nodesReady } from './nodes-ready.js';
import { prepare } from './prepare.js';
import { runtime } from './runtime.js';
import { upgradeCheck } from './upgrade-check.js';
import { upgradeInventory } from './upgrade-inventory.js';
import { userGrant } from './user-grant.js';
import { userList } from './user-list.js';
import { userRevoke } from './user-revoke.js';

/** Every step, by id. The playbooks in playbooks/*.yaml name these. */
export const STEPS: ReadonlyMap<string, AnyStep> = new Map(
  [
    prepare,
    etcd,
    runtime,
    images,
    kubeMaster,
    kubeAccess,
    kubeNode,
    kubeNodeConfig,
    network,
    addons,
    health,
    etcdSnapshot,
    etcdRestore,
    etcdRestoreVerify,
    etcdJoinPlan,
    etcdJoin,
    etcdLeavePlan,
    etcdLeave,
    etcdRetire,
    etcdLeaveInventory,
    hostsFile,
    nodeDrain,
    upgradeCheck,
    upgradeInventory,
    nodeCordon,
    nodeUncordon,
    nodeRetire,
    nodeDelete,
    clusterRefresh,
    certsRead,
    certsReissue,
    caTrustBoth,
    caNewSigning,
    caDropOld,
    caRotationFinish,
    apiClientsRestart,
    authTrustReset,
    certsEtcd,
    certsKubeNode,
    userGrant,
    userList,
    userRevoke,
    nodeStop,
    controlPlaneStop,
    etcdStop,
    etcdStart,
    controlPlaneStart,
    nodeStart,
    nodesReady,
    hostRetire,
  ].map((s) => [s.id, s]),
);
