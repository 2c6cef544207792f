/**
 * Where images live under the tsbox state root. Pure.
 *
 *   <root>/layers/<hex>/tree         one layer's files, whiteouts as overlay whiteouts;
 *                                    <hex> is the layer's diff_id: shared by every image
 *   <root>/layers/<hex>/layer.json   marker, written before the rename that publishes it
 *   <root>/layers/.locks/<hex>.lock  one extractor per layer
 *   <root>/images/records/<hex>.json an image: <hex> is its config digest (the image id)
 *   <root>/images/configs/<hex>.json the config's bytes, verbatim (inspect, save)
 *   <root>/images/refs/<id>.json     a holder's layer references (a container, a load)
 *   <root>/images/sources.json       archive path + stat → image id (warm runs)
 *   <root>/images/.lock              taken to change records, tags and refs
 * Extractions in progress use the rootfs cache's temp dirs (same filesystem, same
 * reclaiming of a dead extractor's leftovers by `tsbox gc`).
 */
import { join } from 'node:path';
import { hexOf } from './digest.js';

export const layersDir = (root: string): string => join(root, 'layers');
export const layerDir = (root: string, diffId: string): string => join(layersDir(root), hexOf(diffId));
export const layerTree = (root: string, diffId: string): string => join(layerDir(root, diffId), 'tree');
export const layerLock = (root: string, diffId: string): string => join(layersDir(root), '.locks', `${hexOf(diffId)}.lock`);
export const imagesDir = (root: string): string => join(root, 'images');
export const recordsDir = (root: string): string => join(imagesDir(root), 'records');
export const recordPath = (root: string, id: string): string => join(recordsDir(root), `${hexOf(id)}.json`);
export const configPath = (root: string, id: string): string => join(imagesDir(root), 'configs', `${hexOf(id)}.json`);
export const refsDir = (root: string): string => join(imagesDir(root), 'refs');
export const sourcesPath = (root: string): string => join(imagesDir(root), 'sources.json');
export const imagesLock = (root: string): string => join(imagesDir(root), '.lock');
