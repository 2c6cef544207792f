/**
 * An image's layers as overlay lower directories, and how to hand them to the kernel.
 *
 * Overlay takes the lowers top first. mount(2) takes them in one option string that the
 * kernel cuts at one page WITHOUT an error (measured: 150 absolute paths mounted read-only
 * with 133 lowers and no upper); the new mount API's fsconfig `lowerdir+` takes one path
 * per call (each at most 255 bytes here) up to overlay's limit of 500. So:
 * - `lowerdir+` when the kernel has it (probed at run time by the mount code);
 * - else one `lowerdir=` string, only when the whole option string fits in a page;
 * - else, or beyond 500 layers: flatten the image into one tree.
 * The decision is pure (chooseStacking); mountPlanForImage gives the directories.
 */
import type { ImageRecord } from './image-store.js';
import { layerTree } from './store-layout.js';
import { flattenedTree } from './flatten.js';
import { readLayerMarker } from './layer-store.js';

export const MAX_OVERLAY_LOWERS = 500;
export const PAGE_SIZE = 4096;
/** fsconfig string values are bounded (measured: 255 bytes). */
export const FSCONFIG_MAX_VALUE = 255;

export interface MountPlan {
  /** Top layer first, as overlay's lowerdir lists them. */
  lowerDirs: string[];
  /** Why the image was flattened into one tree, or null when its layers are stacked. */
  flattened: string | null;
}

/**
 * The lower directories for an image: its layers from the store, or one flattened tree
 * when stacking cannot show the image (more than 500 layers, a hard link into a lower
 * layer). A mount option string that would pass a page is the mount code's to check
 * (chooseStacking), with the other options it adds.
 */
export async function mountPlanForImage(root: string, record: ImageRecord): Promise<MountPlan> {
  let why: string | null = record.layerKeys.length > MAX_OVERLAY_LOWERS ? `${record.layerKeys.length} layers, overlay stacks at most ${MAX_OVERLAY_LOWERS}` : null;
  if (why === null) {
    for (const key of record.layerKeys) {
      const marker = await readLayerMarker(root, key);
      if (marker !== null && marker.crossLayerLinks.length > 0) {
        why = `layer ${marker.diffId} hard-links files of the layers below`;
        break;
      }
    }
  }
  if (why !== null) return { lowerDirs: [await flattenedTree(root, record)], flattened: why };
  return { lowerDirs: [...record.layerKeys].reverse().map((d) => layerTree(root, d)), flattened: null };
}

/** Escape a path for overlay's option syntax (',' ':' '\\' are separators there). */
export function escapeLower(path: string): string {
  return path.replace(/([\\,:])/g, '\\$1');
}

export type Stacking = { kind: 'lowerdir+'; values: string[] } | { kind: 'mount-option'; lowerdir: string } | { kind: 'flatten'; why: string };

/**
 * How to stack `lowerDirs` (top first). `otherOptions` is the rest of the mount(2) option
 * string (upperdir=...,workdir=...,...), which shares the page. Pure.
 */
export function chooseStacking(lowerDirs: string[], newApi: boolean, otherOptions: string): Stacking {
  if (lowerDirs.length > MAX_OVERLAY_LOWERS) return { kind: 'flatten', why: `${lowerDirs.length} layers, overlay stacks at most ${MAX_OVERLAY_LOWERS}` };
  if (newApi) {
    const long = lowerDirs.find((d) => Buffer.byteLength(d) > FSCONFIG_MAX_VALUE);
    if (long === undefined) return { kind: 'lowerdir+', values: lowerDirs };
  }
  const lowerdir = lowerDirs.map(escapeLower).join(':');
  const options = `lowerdir=${lowerdir}${otherOptions ? `,${otherOptions}` : ''}`;
  // The kernel copies one page including the terminating NUL.
  if (Buffer.byteLength(options) + 1 > PAGE_SIZE) return { kind: 'flatten', why: `the mount options would be ${Buffer.byteLength(options)} bytes, more than a page` };
  return { kind: 'mount-option', lowerdir };
}
