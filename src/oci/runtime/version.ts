/** What `--version` and `features` report (the runtime-spec version is src/oci/spec's). */
export { OCI_VERSION } from '../spec/version.js';
export const VERSION = '0.1.0';
