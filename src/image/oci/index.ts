/**
 * The image side's API for the runtime (wired by the container model, issue #11):
 * - loadImage(ARCHIVE[:NAME]) → an image record (or "a rootfs": use prepareImage);
 * - acquireLayers(root, imageId, holder) → references a container keeps; release() them;
 * - mountPlanForImage(root, record) → the overlay lower directories (top first), or one
 *   flattened tree; chooseStacking/mountOverlay for handing them to the kernel;
 * - imageDefaultsFromConfig(config) → the defaults a run merges (spec/image-defaults.ts).
 */
export { loadImage, type LoadOptions, type LoadResult } from './load.js';
export { acquireLayers, release, listRecords, readRecord, readConfigBytes, resolveImage, type ImageRecord, type LayerRefs } from './image-store.js';
export { mountPlanForImage, chooseStacking, MAX_OVERLAY_LOWERS, type MountPlan, type Stacking } from './mount-plan.js';
export { mountOverlay, probeLowerdirPlus, NeedsFlattenError, type OverlayTarget } from './overlay-mount.js';
export { imageDefaultsFromConfig, ImageConfigError, type ConvertedConfig } from './config-merge.js';
export { imageConfigSchema, type ImageConfig } from './documents.js';
