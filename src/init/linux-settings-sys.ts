/** The real calls behind init/process-settings.ts and init/sysctl.ts (tests pass recording doubles). */
import { writeAll } from '../sys/fs.js';
import { inRootSys, openWriteAt } from '../sys/in-root.js';
import { getRlimit, setOomScoreAdj, setRlimit, setUmask } from '../sys/process.js';
import type { ProcessSettingsSys } from './process-settings.js';
import type { SysctlSys } from './sysctl.js';

export const linuxProcessSettingsSys: ProcessSettingsSys = {
  getRlimit,
  setRlimit,
  setUmask: (mask) => void setUmask(mask),
  setOomScoreAdj,
};

export const linuxSysctlSys: SysctlSys = { inRoot: inRootSys, openWriteAt, writeAll };
