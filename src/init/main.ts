/**
 * Entry point of the container's init process. Kept tiny on purpose: every module this
 * file pulls in is loaded on every container start.
 */
import { runInit } from './story.js';

runInit();
