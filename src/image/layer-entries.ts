/**
 * What an image layer's member means, beyond a plain rootfs member. Pure.
 *
 * The layer is extracted into its own directory, later stacked as an overlay lower
 * directory, so the image spec's whiteouts become what overlayfs understands there:
 * - `DIR/.wh.NAME`   → a 0:0 character device at DIR/NAME (overlay's whiteout): NAME of
 *   the layers below is hidden. A same-layer entry NAME is never hidden (the writer keeps
 *   whatever the layer itself put there, before or after the marker).
 * - `DIR/.wh..wh..opq` → trusted.overlay.opaque=y on DIR: everything below DIR in the
 *   lower layers is hidden, wherever the marker sits in the layer; DIR's own entries from
 *   this layer stay.
 * - any other `.wh..wh.*` name is the spec's reserved metadata: ignored.
 * - a whiteout whose NAME is empty, "." or ".." is refused (umoci deleted its whole rootfs
 *   for `etc/.wh.`); so is an opaque marker on the layer root, which overlay would not
 *   honour on a lower root.
 * Device nodes from a layer are dropped: a 0:0 device would be a whiteout nobody wrote
 * as one, and real devices come from the runtime's /dev, never from an image. Overlay's
 * own xattrs (trusted.overlay.*, user.overlay.*) are refused: they would redirect or hide
 * lower paths behind the image spec's back.
 */
import type { EntryPath } from './entry-path.js';
import type { EntryPlan } from './entry-plan.js';

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';
const META_PREFIX = '.wh..wh.';

export type LayerAction =
  | { kind: 'keep' }
  | { kind: 'whiteout'; path: EntryPath }
  | { kind: 'opaque'; dir: EntryPath }
  | { kind: 'ignore' }
  | { kind: 'drop-device' };

export class WhiteoutError extends Error {}

export function layerAction(plan: EntryPlan): LayerAction {
  for (const [attr] of plan.xattrs) {
    if (attr.startsWith('trusted.overlay.') || attr.startsWith('user.overlay.')) {
      throw new WhiteoutError(`overlay xattr ${attr} is not allowed in an image layer`);
    }
  }
  const base = plan.path[plan.path.length - 1];
  if (base !== undefined && base.startsWith(WHITEOUT_PREFIX)) {
    const dir = plan.path.slice(0, -1);
    if (base === OPAQUE_MARKER) {
      if (dir.length === 0) throw new WhiteoutError('an opaque whiteout on the layer root is not supported');
      return { kind: 'opaque', dir };
    }
    if (base.startsWith(META_PREFIX)) return { kind: 'ignore' };
    const name = base.slice(WHITEOUT_PREFIX.length);
    if (name === '' || name === '.' || name === '..' || name.includes('/')) {
      throw new WhiteoutError(`whiteout ${JSON.stringify(base)} names no file of its directory`);
    }
    return { kind: 'whiteout', path: [...dir, name] };
  }
  if (plan.kind === 'char-device' || plan.kind === 'block-device') return { kind: 'drop-device' };
  if (plan.kind === 'hardlink' && plan.linkTarget !== null) {
    const target = plan.linkTarget[plan.linkTarget.length - 1]!;
    if (target.startsWith(WHITEOUT_PREFIX)) throw new WhiteoutError('a hard link to a whiteout marker');
  }
  return { kind: 'keep' };
}
