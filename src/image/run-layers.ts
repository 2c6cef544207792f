/**
 * A stored image as the container's lower layers: its layers from the store stacked as
 * overlay lowers (two containers of images that share a base share its extracted tree),
 * or one flattened tree when stacking cannot show the image (mount-plan.ts). The layers
 * are referenced for the container before they are used, under the images lock, so an
 * `rmi` or `image prune` that runs meanwhile keeps them; the container's resource record
 * names the reference (kind image-layers) and its release drops it, also from gc.
 *
 * How the stack reaches the kernel is decided here, where the host can be probed:
 * `lowerdir+` through fsconfig (Linux 6.8+: one path per call, no page limit), else one
 * mount(2) option string only when it fits in a page (the kernel cuts it silently), else
 * flatten. The init walks the decision (init/story.ts).
 */
import { UsageError } from '../errors.js';
import { overlayOptions } from '../mounts/plan.js';

/** Top layer first, as overlay lists lowers; null when the lower is one tree. */
export type LowerStack = { api: 'fsconfig' | 'mount'; dirs: string[] } | null;

export interface ImageLowers {
  /** The lower tree when there is one (a flattened image, a one-layer image); the top layer otherwise. */
  treeDir: string;
  stack: LowerStack;
  /** Why the image was flattened, if it was. */
  flattened: string | null;
}

export interface LayerHolder {
  /** The reference's name in the store (the container id: recorded before it is taken). */
  ref: string;
  /** Who holds it, for people reading the store. */
  holder: string;
}

export async function prepareImageLowers(root: string, imageId: string, holder: LayerHolder, container: { upper: string; work: string }): Promise<ImageLowers> {
  const [{ readRecord, withImagesLock, writeRef }, { readLayerMarker }, { mountPlanForImage, chooseStacking }, { flattenedTree }] = await Promise.all([
    import('./oci/image-store.js'), import('./oci/layer-store.js'), import('./oci/mount-plan.js'), import('./oci/flatten.js'),
  ]);
  const record = await withImagesLock(root, async () => {
    const found = await readRecord(root, imageId);
    if (found === null) throw new UsageError(`image ${imageId} is not in the store any more`, { hint: 'It was removed (tsbox rmi): load or pull it again.' });
    for (const key of found.layerKeys) {
      if ((await readLayerMarker(root, key)) === null) throw new UsageError(`image ${imageId}: its layer ${key} is missing from the store`, { hint: 'Load or pull the image again: the missing layer is extracted again.' });
    }
    await writeRef(root, { ref: holder.ref, imageId: found.id, layerKeys: found.layerKeys, holder: holder.holder });
    return found;
  });
  const plan = await mountPlanForImage(root, record);
  if (plan.lowerDirs.length === 1) return { treeDir: plan.lowerDirs[0]!, stack: null, flattened: plan.flattened };
  if (plan.lowerDirs.length === 0) return { treeDir: await flattenedTree(root, record), stack: null, flattened: 'the image has no layers' };
  const { probeLowerdirPlus } = await import('./oci/overlay-mount.js');
  // The rest of the option string mount(2) would get, to check that the whole fits in a page.
  const other = overlayOptions('', container.upper, container.work).replace(/^lowerdir=,/, '') + ',redirect_dir=nofollow,metacopy=off';
  const how = chooseStacking(plan.lowerDirs, probeLowerdirPlus(), other);
  if (how.kind === 'flatten') return { treeDir: await flattenedTree(root, record), stack: null, flattened: how.why };
  return { treeDir: plan.lowerDirs[0]!, stack: { api: how.kind === 'lowerdir+' ? 'fsconfig' : 'mount', dirs: plan.lowerDirs }, flattened: null };
}

/** Drop a holder's reference (idempotent: gc may release it twice, or before it was taken). */
export async function releaseImageLayers(root: string, ref: string): Promise<void> {
  const { releaseRef } = await import('./oci/image-store.js');
  await releaseRef(root, ref);
}
