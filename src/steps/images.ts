import type { LocalImage } from '../artifacts/images.js';
import { CONTAINERD_PATHS } from '../components/containerd.js';
import { withCri } from '../cri/runtime.js';
import type { Resource } from '../engine/resources.js';
import type { Step } from '../engine/step.js';
import { imagesFor } from '../hostlib/artifacts.js';
import { sh, shell } from '../transport/quote.js';

export const IMAGE_DIR = '/var/lib/kubesmith/images';
/** Kubernetes' CRI reads images from this containerd namespace. */
const NAMESPACE = 'k8s.io';
/** containerd's CRI never garbage-collects an image with this label. */
const PINNED = 'io.cri-containerd.pinned=pinned';
/** A systemd slice: containerd runs runc with the systemd cgroup driver. */
const VERIFY_SLICE = 'kubesmith-verify.slice';

const archiveOf = (image: LocalImage) => `${IMAGE_DIR}/${image.localPath.split('/').pop()}`;

/** Imported, pinned, and still the config this archive carries. */
function importedGuard(image: LocalImage) {
  const filter = `name==${image.name},labels."io.cri-containerd.pinned"==pinned`;
  return shell(
    sh`test -n "$(ctr -n ${NAMESPACE} images ls -q ${filter})"`,
    sh`ctr -n ${NAMESPACE} content get ${image.configDigest} >/dev/null`,
  );
}

/**
 * Into the content store only: the CRI unpacks an image's layers when a container first needs
 * them, so a host never spends CPU on images it does not run (test images on masters, an addon
 * scheduled elsewhere).
 */
function importCommand(image: LocalImage): Resource {
  return {
    kind: 'command',
    title: `import ${image.name}`,
    argv: shell(
      'set -e',
      sh`ctr -n ${NAMESPACE} images import --no-unpack ${archiveOf(image)}`,
      sh`ctr -n ${NAMESPACE} images label ${image.name} ${PINNED}`,
    ),
    unless: importedGuard(image),
    onChangeOf: [archiveOf(image)],
    hint: `the archive is ${archiveOf(image)} on the host; 'ctr -n k8s.io images import' it by hand to see why`,
  };
}

/**
 * The artifact bundle's container images (pause, the addons', test images) imported into
 * containerd where absent or different, and pinned against image garbage collection: an
 * air-gapped host needs no registry. Part of 03, after the runtime is running.
 */
export const images: Step = {
  id: 'images',
  title: 'Container images from the bundle: imported into containerd and pinned',
  async preflight(ctx) {
    await imagesFor(ctx);
  },
  async run(ctx) {
    const list = await imagesFor(ctx);
    if (list.length === 0) {
      ctx.log('the artifact source carries no images: containerd pulls them from the registries');
      return;
    }
    const resources: Resource[] = [
      { kind: 'directory', path: IMAGE_DIR, mode: 0o755 },
      ...list.map(
        (image): Resource => ({
          kind: 'file',
          path: archiveOf(image),
          content: { localPath: image.localPath, sha256: image.sha256 },
          mode: 0o644,
        }),
      ),
      ...list.map(importCommand),
    ];
    await ctx.apply(resources);
  },
  async verify(ctx) {
    const wanted = await imagesFor(ctx);
    await withCri(ctx.conn, CONTAINERD_PATHS.socket, async (cri) => {
      const present = await cri.images();
      const problems = wanted.flatMap((image) => {
        const found = present.find((p) => p.repoTags.includes(image.name));
        if (!found) return [`${image.name} is not in containerd`];
        if (found.id !== image.configDigest)
          return [`${image.name} is ${found.id}, the bundle has ${image.configDigest}`];
        if (!found.pinned) return [`${image.name} is not pinned`];
        return [];
      });
      if (problems.length) throw new Error(`${problems.join('; ')}; run setup 03 again`);
      await cri.trySandbox(VERIFY_SLICE);
      ctx.log(
        `${wanted.length} bundle image(s) present and pinned; a pod sandbox started, was ready, and was removed`,
      );
    });
  },
};
