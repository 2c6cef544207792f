/** What `--version` and `features` report. */
export const VERSION = '0.1.0';
/** The runtime-spec version tsbox-runtime follows. */
export const OCI_VERSION = '1.0.2';
