/**
 * The exec-init program (`tsbox exec`), bundled on its own (dist/exec-init.cjs) so that a
 * container's start never loads it, nor an exec the container's init.
 */
export { runExecInit as start } from './exec-story.js';
