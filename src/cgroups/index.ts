/**
 * cgroup v2 for tsbox: docker's resource flags -> limits -> a plan of files (pure), the
 * per-container group (create, join, stats, destroy), leftovers' removal, and the stats line.
 */
export { parseCgroupLimits, hostLimitEnv, MEMORY_MIN_BYTES } from './limits.js';
export type { CgroupLimitFlags, CgroupLimits, IoLimit, LimitEnv, BlockDeviceInfo } from './limits.js';
export { planCgroupFiles, requiredControllers } from './plan.js';
export type { CgroupFileWrite } from './plan.js';
export { findCgroup2Mount, findV1Controllers } from './mountinfo.js';
export { decideCgroup } from './availability.js';
export type { CgroupHostFacts } from './availability.js';
export { parseCpuStat, parseMemoryEvents, parseIoStat, parseFlatKeyed, formatStatsLine, statsRecord, UNMEASURED, NOT_MEASURED } from './stats.js';
export type { CgroupStats, CpuStat, MemoryEvents, IoStat } from './stats.js';
export { createContainerCgroup, openContainerCgroup, parseCgroupParent, plannedCgroupPath, removeEmptyDefaultParent, DEFAULT_CGROUP_PARENT } from './manager.js';
export type { ContainerCgroup, CreateCgroupOptions } from './manager.js';
export { gcCgroups } from './gc.js';
export type { GcCgroupsOptions } from './gc.js';
export { nodeCgroupFs } from './cgroupfs.js';
export type { CgroupFs } from './cgroupfs.js';
export { sharesToWeight } from './cpu.js';
export { parseSizeBytes } from './size.js';
