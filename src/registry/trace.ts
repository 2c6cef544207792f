/**
 * The steps of a pull as --debug and --explain name them, and the hook the registry client
 * reports to: one line per request, document and blob, with real paths, digests and sizes.
 * Without --debug/--explain no hook is set and nothing is built.
 */

/** Every step a pull logs, in order (explain/pull-steps.ts has a text for each). */
export const PULL_STEPS = ['resolve reference', 'contact registry', 'get token', 'fetch manifest', 'fetch config', 'fetch layers', 'extract layers', 'write image record'] as const;
export type PullStep = (typeof PULL_STEPS)[number];

export type PullTrace = (step: PullStep, msg: string) => void;
