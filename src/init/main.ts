/**
 * The container's init program (dist/init.cjs), started by dist/start.cjs. Kept tiny on
 * purpose: every module this file pulls in is loaded on every container start.
 */
export { runInit as start } from './story.js';
