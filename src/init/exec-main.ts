/**
 * Entry point of the exec-init (`tsbox exec`), bundled on its own (dist/exec-init.mjs) so
 * that a container's start never loads it, nor an exec the container's init.
 */
import { runExecInit } from './exec-story.js';

runExecInit();
