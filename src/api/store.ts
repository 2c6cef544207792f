/** The container records of a state root (option `root`, else $TSBOX_ROOT, else /var/lib/tsbox), as the CLI finds them. */
import { storeOfRoot, type StateStore } from '../runtime/state/store.js';
import { DEFAULT_ROOT, resolveRoot } from '../spec/run-spec.js';

export function storeFor(root: string | undefined): StateStore {
  return storeOfRoot(resolveRoot(root), DEFAULT_ROOT);
}
