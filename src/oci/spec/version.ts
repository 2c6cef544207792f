/**
 * The runtime-spec versions tsbox speaks. OCI_VERSION is what it writes (state, `spec`):
 * the version runc 1.1 reports, which the engines Debian 12 ships expect. Configs of any
 * 1.x are read (schema.ts); `features` says 1.0.0 to 1.1.0, the fields tsbox implements.
 */
export const OCI_VERSION = '1.0.2';
export const OCI_VERSION_MIN = '1.0.0';
export const OCI_VERSION_MAX = '1.1.0';
