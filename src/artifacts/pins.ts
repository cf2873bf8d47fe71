/**
 * sha256 pinned per artifact, version and arch: with a pin, a download is checked against it
 * and no checksum file is fetched at all (so a mirror may serve the file itself).
 *
 * Source of every value below: kubernetes-sigs/kubespray,
 * roles/kubespray_defaults/vars/main/checksums.yml at commit
 * 005bdce7f1867958838a2d0bb4f7e67893d98f64 (crictl_checksums, runc_checksums,
 * cni_binary_checksums, nerdctl_archive_checksums, containerd_archive_checksums,
 * kubelet_checksums, kubectl_checksums), which records the sha256 the projects publish for
 * these release files. They could not be checked against the official origin when they were
 * added (no network): a wrong pin makes the download fail loudly, never succeed wrongly.
 * Versions with no published value found are left unpinned (etcd 3.6.7, crictl 1.36.0 and
 * 1.37.0, kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy): their
 * checksum files are fetched from the official origin.
 */
const PINS: Readonly<Record<string, string>> = {
  // containerd-<v>-linux-<arch>.tar.gz
  'containerd/2.1.4/amd64': '316d510a0428276d931023f72c09fdff1a6ba81d6cc36f31805fea6a3c88f515',
  'containerd/2.1.4/arm64': '846d13bc2bf1c01ae2f20d13beb9b3a1e50b52c86e955b4ac7d658f5847f2b0e',
  'containerd/2.2.0/amd64': 'b9626a94ab93b00bcbcbf13d98deef972c6fb064690e57940632df54ad39ee71',
  'containerd/2.2.0/arm64': '8805c2123d3b7c7ee2030e9f8fc07a1167d8a3f871d6a7d7ec5d1deb0b51a4a7',
  // runc.<arch>
  'runc/1.3.0/amd64': '028986516ab5646370edce981df2d8e8a8d12188deaf837142a02097000ae2f2',
  'runc/1.3.0/arm64': '85c5e4e4f72e442c8c17bac07527cd4f961ee48e4f2b71797f7533c94f4a52b9',
  'runc/1.3.3/amd64': '8781ab9f71c12f314d21c8e85f13ca1a82d90cf475aa5131a7b543fcc5487543',
  'runc/1.3.3/arm64': '3c9a8e9e6dafd00db61f4611692447ebab4a56388bae4f82192aed67b66df712',
  // cni-plugins-linux-<arch>-v<v>.tgz
  'cni-plugins/1.7.1/amd64': '1a28a0506bfe5bcdc981caf1a49eeab7e72da8321f1119b7be85f22621013098',
  'cni-plugins/1.7.1/arm64': '119fcb508d1ac2149e49a550752f9cd64d023a1d70e189b59c476e4d2bf7c497',
  'cni-plugins/1.8.0/amd64': 'ab3bda535f9d90766cccc90d3dddb5482003dd744d7f22bcf98186bf8eea8be6',
  'cni-plugins/1.8.0/arm64': '57ce466fc3b79db1f19b8f4c63e07a1112306efa53c94fe810a2150dd9e07ddb',
  // crictl-v<v>-linux-<arch>.tar.gz
  'crictl/1.34.0/amd64': 'a8ff2a3edb37a98daf3aba7c3b284fe0aa5bff24166d896ab9ef64c8913c9f51',
  'crictl/1.34.0/arm64': 'c31d252e203df5f4cf37f314bd3092eb79087e791631c1e607087c74b6d0423f',
  'crictl/1.35.0/amd64': '2e141e5b22cb189c40365a11807d69b76b9b3caced89fac2f4ec879408ce2177',
  'crictl/1.35.0/arm64': '519071de89b64c43e2a1661bb5489c6c3fd5e9e5fcef75e50e542b0c891f1118',
  // nerdctl-<v>-linux-<arch>.tar.gz
  'nerdctl/2.1.2/amd64': '1a08c35d16a0db0b4ac298adb8e4dab4293803d492cbba7aaf862a48a04c463d',
  'nerdctl/2.1.2/arm64': 'af6b8c9028fb1adc84b64c9a63da0f369bfa5cfc9176c8b7c58a573d30bd8a74',
  'nerdctl/2.2.1/amd64': '34144de7f12756aa4b9dc42a907fd95b0c5eb82a63566a650ca10c8abe7a26a0',
  'nerdctl/2.2.1/arm64': 'abc83c9ac3d843c3442eedfb61c6456b8b59b1e4cd69f69598ca1582acc7c094',
  // dl.k8s.io/release/v<v>/bin/linux/<arch>/kubelet
  'kubelet/1.34.0/amd64': '5c0d28cea2a3a5c91861dda088a29d56c1b027e184dae1d792686f0710750076',
  'kubelet/1.34.1/amd64': '5a72c596c253ea0b0e5bcc6f29903fd41d1d542a7cadf3700c165a2a041a8d82',
  'kubelet/1.34.2/amd64': '9c5e717b774ee9b9285ce47e7d2150c29e84837eb19a7eaa24b60b1543c9d58f',
  'kubelet/1.34.3/amd64': '0e759f40bbc717c05227ae3994b77786f58f59ffa0137a34958c6b26fa5bcbbd',
  'kubelet/1.34.4/amd64': '03b8fea715a7ef82eeaf518dee34c72670c57cc7bc40dc1320c04fbf4f15172f',
  'kubelet/1.35.0/amd64': '2f4ed7778681649b81244426c29c5d98df60ccabf83d561d69e61c1cbb943ddf',
  'kubelet/1.35.1/amd64': 'e7343310e03ff0d424df4397bdfa4468947d6d1f0f93dac586c1e8d6e4086d5d',
  'kubelet/1.34.0/arm64': 'e45a7795391cd62ee226666039153832d3096c0f892266cd968936e18b2b40b0',
  'kubelet/1.34.1/arm64': '6a66bc08d6c637fcea50c19063cf49e708fde1630a7f1d4ceca069a45a87e6f1',
  'kubelet/1.34.2/arm64': '3e31b1bee9ab32264a67af8a19679777cd372b1c3a04b5d7621289cf137b357c',
  'kubelet/1.34.3/arm64': '765b740e3ad9c590852652a2623424ec60e2dddce2c6280d7f042f56c8c98619',
  'kubelet/1.34.4/arm64': 'c78845473c434ee85a2444eeab87f8b20f524e3ab6854a078f79468f44aad8f5',
  'kubelet/1.35.0/arm64': 'aa658d077348b43d238f50966a583f4244b2a7d45590c77b3b165b7d44983ab8',
  'kubelet/1.35.1/arm64': '73475c6db8fd8a9780b1b378fa2f917875e6146166c24603c1abc6eafd4493a8',
  // dl.k8s.io/release/v<v>/bin/linux/<arch>/kubectl
  'kubectl/1.34.0/amd64': 'cfda68cba5848bc3b6c6135ae2f20ba2c78de20059f68789c090166d6abc3e2c',
  'kubectl/1.34.1/amd64': '7721f265e18709862655affba5343e85e1980639395d5754473dafaadcaa69e3',
  'kubectl/1.34.2/amd64': '9591f3d75e1581f3f7392e6ad119aab2f28ae7d6c6e083dc5d22469667f27253',
  'kubectl/1.34.3/amd64': 'ab60ca5f0fd60c1eb81b52909e67060e3ba0bd27e55a8ac147cbc2172ff14212',
  'kubectl/1.34.4/amd64': 'd50c359d95e0841eaad08ddc27c7be37cba8fdccfba5c8e2ded65e121ff112db',
  'kubectl/1.35.0/amd64': 'a2e984a18a0c063279d692533031c1eff93a262afcc0afdc517375432d060989',
  'kubectl/1.35.1/amd64': '36e2f4ac66259232341dd7866952d64a958846470f6a9a6a813b9117bd965207',
  'kubectl/1.34.0/arm64': '00b182d103a8a73da7a4d11e7526d0543dcf352f06cc63a1fde25ce9243f49a0',
  'kubectl/1.34.1/arm64': '420e6110e3ba7ee5a3927b5af868d18df17aae36b720529ffa4e9e945aa95450',
  'kubectl/1.34.2/arm64': '95df604e914941f3172a93fa8feeb1a1a50f4011dfbe0c01e01b660afc8f9b85',
  'kubectl/1.34.3/arm64': '46913a7aa0327f6cc2e1cc2775d53c4a2af5e52f7fd8dacbfbfd098e757f19e9',
  'kubectl/1.34.4/arm64': '5b982c0644ab1e27780246b9085a5886651b4a7ed86243acbb2bacc1bea01dda',
  'kubectl/1.35.0/arm64': '58f82f9fe796c375c5c4b8439850b0f3f4d401a52434052f2df46035a8789e25',
  'kubectl/1.35.1/arm64': '706256e21a4e9192ee62d1a007ac0bfcff2b0b26e92cc7baad487a6a5d08ff82',
};

/** The pinned sha256 of a catalog artifact (name as in the catalog) for a version and arch, if any. */
export function catalogPin(name: string, version: string, arch: string): string | undefined {
  return PINS[`${name}/${version}/${arch}`];
}

/** Every pin, for tests that check their shape. */
export function allCatalogPins(): Readonly<Record<string, string>> {
  return PINS;
}
