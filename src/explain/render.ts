/**
 * --explain: turns the run's debug records (the steps runtime/run.ts names, the init's
 * traced calls, the cgroup and device-policy records) into an explanation on stderr, one
 * section per step: what happens and why (steps.ts), the system calls with their symbolic
 * flags and results exactly as --debug traced them, figures read from the host, and what
 * you would observe without the step. `json`: one object per step, for tools.
 *
 * The executors do not know about it: it consumes the records they already log. Entry of
 * the dist/explain.cjs bundle, loaded only with --explain (load.ts).
 */
import { writeSync } from 'node:fs';
import { isatty } from 'node:tty';
import { linuxHostFigures, NAMESPACES, type HostFigures } from './figures.js';
import { stepText, type Facts, type SecuritySummary } from './steps.js';
import type { ExplainSink } from './load.js';

/** A traced call line: `name(args) = result` (explain/format-call.ts formatCall). */
export const CALL_LINE = /^[a-z_][a-z0-9_]*\(.*\) = (-1 E[A-Z0-9]+|-?\d+)$/s;

/** One step as it is shown. */
export interface ExplainedStep {
  step: string;
  /** What happens and why; null for a step no text covers, or one of a family already explained. */
  explain: string | null;
  calls: string[];
  notes: string[];
  figures: Record<string, unknown>;
  without: string | null;
  /** The step was shown before: its records came in two stretches (the parent's and the init's). */
  continued?: true;
}

export interface RenderOptions {
  format: 'text' | 'json';
  write: (text: string) => void;
  color: boolean;
  host: HostFigures;
}

const capitalize = (t: string): string => t.charAt(0).toUpperCase() + t.slice(1);

export function createExplainSink(format: 'text' | 'json'): ExplainSink {
  const sink = new ExplainRenderer({ format, write: (t) => void writeSync(2, t), color: format === 'text' && isatty(2), host: linuxHostFigures });
  process.once('exit', () => sink.end());
  return sink;
}

interface Section extends ExplainedStep {
  family: string;
  first: boolean;
}

export class ExplainRenderer implements ExplainSink {
  private current: Section | null = null;
  private readonly explained = new Set<string>();
  private readonly shown = new Set<string>();
  private readonly facts: Facts;
  private hostMounts: number | null = null;
  /** tsbox exec: the container's init, whose namespaces the exec-init joins. */
  private containerPid: number | null = null;

  constructor(private readonly opts: RenderOptions) {
    this.facts = { host: opts.host, initPid: null, cgroup: null, controllers: null, security: null, cloneFlags: null, hostHostname: opts.host.hostname(), early: false };
  }

  record(fields: Record<string, unknown>, msg: string): void {
    const f = this.facts;
    const spawned = fields.step === 'spawn init' || fields.step === 'spawn exec-init';
    if (typeof fields.pid === 'number' && (spawned || /^init (ready|moved)|^container (created|started)/.test(msg))) f.initPid = fields.pid;
    // The sync points: what was explained so far is written now (a monitor replies right after).
    if (msg === 'container created' || msg === 'container started') return this.close();
    if (typeof fields.networkDef === 'object' && fields.networkDef !== null) f.network = fields.networkDef as Facts['network'];
    if (msg === 'run spec') {
      f.security = (fields.security as SecuritySummary | undefined) ?? null;
      return;
    }
    if (msg === 'cgroup created') {
      f.cgroup = typeof fields.cgroup === 'string' ? fields.cgroup : null;
      f.controllers = Array.isArray(fields.controllers) ? (fields.controllers as string[]) : null;
      return this.note('create cgroup', `made ${f.cgroup}; controllers enabled in it: ${f.controllers?.length ? f.controllers.join(' ') : 'none'}`);
    }
    if (msg === 'cgroup limit set') return this.note('create cgroup', `write ${String(fields.file)}: ${String(fields.value)}`);
    if (msg === 'init moved into cgroup') return this.note('move init into cgroup', `write ${f.cgroup ?? 'the group'}/cgroup.procs: ${String(fields.pid)}`);
    if (msg === 'device policy attached') return this.note('apply device policy', `${String(fields.instructions)} eBPF instructions; allowed: ${(fields.rules as string[]).join(', ')}`);
    if (typeof fields.step !== 'string') return;
    const step = fields.step;
    if (spawned && typeof fields.pid === 'number') {
      if (typeof fields.container === 'number') this.containerPid = fields.container;
      f.early = /start-up/.test(msg);
      if (typeof fields.cgroup === 'string') f.cgroup = fields.cgroup;
      return this.note(step, `${step === 'spawn init' ? 'init' : 'exec-init'}: pid ${fields.pid} on the host${f.early ? ', spawned at start-up' : ''}`);
    }
    const section = this.enter(step);
    if (CALL_LINE.test(msg)) {
      section.calls.push(msg);
      const flags = /^unshare\((CLONE_[A-Z|_]+)\)/.exec(msg);
      if (step === 'spawn init' && flags) f.cloneFlags = flags[1]!;
    } else if (msg !== step) {
      section.notes.push(msg);
    }
  }

  end(): void {
    this.close();
  }

  private note(step: string, text: string): void {
    this.enter(step).notes.push(text);
  }

  private enter(step: string): Section {
    if (this.current?.step === step) return this.current;
    this.close();
    const text = stepText(step);
    const family = text?.family ?? step;
    const first = !this.explained.has(family);
    this.explained.add(family);
    if (step === 'pivot_root' || step === 'mount rootfs') this.hostMounts ??= this.opts.host.mounts('self')?.length ?? null;
    this.current = { step, family, first, explain: null, calls: [], notes: [], figures: {}, without: null, ...(this.shown.has(step) ? { continued: true as const } : {}) };
    this.shown.add(step);
    return this.current;
  }

  /** Figures and "without" are made at the end of a step: the facts its records brought are known then. */
  private close(): void {
    const s = this.current;
    if (!s) return;
    this.current = null;
    const text = stepText(s.step);
    s.figures = this.figures(s.step);
    if (s.first && text) s.explain = typeof text.what === 'function' ? text.what(this.facts) : text.what;
    if (s.first && text?.without) s.without = text.without(this.facts);
    if (s.step === 'create cgroup') {
      const none = this.noLimits();
      if (none) s.figures.noLimit = none;
    }
    const { first: _first, family: _family, ...shown } = s;
    this.opts.write(this.opts.format === 'json' ? `${JSON.stringify(shown)}\n` : this.text(shown));
  }

  private figures(step: string): Record<string, unknown> {
    const f = this.facts;
    const host = this.opts.host;
    if (step === 'spawn exec-init' && f.initPid !== null && this.containerPid !== null) {
      // exec: the exec-init against the container's init (equal where it joined), not the host.
      const container = host.namespaceIds(this.containerPid);
      const exec = host.namespaceIds(f.initPid);
      const joined: Record<string, { container: string; exec: string | null }> = {};
      for (const ns of NAMESPACES) if (container[ns]) joined[ns] = { container: container[ns]!, exec: exec[ns] ?? null };
      return { joined };
    }
    if ((step === 'spawn init' || step === 'unshare cgroup namespace') && f.initPid !== null) {
      const before = host.namespaceIds('self');
      const after = host.namespaceIds(f.initPid);
      const namespaces: Record<string, { host: string; container: string | null }> = {};
      for (const ns of NAMESPACES) if (before[ns]) namespaces[ns] = { host: before[ns]!, container: after[ns] ?? null };
      return { namespaces };
    }
    if (step === 'pivot_root' && f.initPid !== null) {
      const after = host.mounts(f.initPid);
      return { mountsBefore: this.hostMounts, mountsAfter: after?.map((m) => `${m.target} (${m.fstype})`) ?? null };
    }
    if (step === 'create cgroup' && f.cgroup !== null) return { cgroup: f.cgroup, controllers: f.controllers };
    return {};
  }

  /** A group without controllers limits nothing: say so, and why, from what the host shows. */
  private noLimits(): string | null {
    const f = this.facts;
    if (f.cgroup === null || f.controllers === null || f.controllers.length > 0) return null;
    const hybrid = f.cgroup.startsWith('/sys/fs/cgroup/unified/');
    const why = hybrid
      ? 'this host is "hybrid": cgroup v2 is mounted at /sys/fs/cgroup/unified beside the cgroup v1 hierarchies, which hold the memory, cpu, pids and io controllers, and a controller serves one hierarchy at a time'
      : `the parent group enables no controller for its children (its cgroup.subtree_control is ${JSON.stringify(this.opts.host.cgroupFile(f.cgroup.replace(/\/[^/]+$/, ''), 'cgroup.subtree_control') ?? '?')})`;
    return `no limit applies to this container: its group ${f.cgroup} has no controllers (cgroup.controllers is empty) because ${why}. The group still gathers the container's processes (so they can all be killed at once) and the device policy works; a --memory, --cpus or --pids-limit would be refused rather than silently ignored.`;
  }

  private text(s: ExplainedStep): string {
    const c = this.opts.color;
    const paint = (code: string, t: string) => (c ? `\x1b[${code}m${t}\x1b[0m` : t);
    const lines: string[] = ['', paint('1;36', `▸ ${s.step}${s.continued ? ' (continued)' : ''}`)];
    if (s.explain) lines.push(`  ${s.explain}`);
    for (const call of s.calls) lines.push(paint('33', `    ${call}`));
    for (const note of s.notes) lines.push(paint('2', `    · ${note}`));
    const ns = s.figures.namespaces as Record<string, { host: string; container: string | null }> | undefined;
    if (ns) {
      lines.push('  namespace ids (readlink /proc/PID/ns/*), host -> container:');
      for (const [name, ids] of Object.entries(ns)) lines.push(`    ${name.padEnd(7)} ${ids.host} -> ${ids.container ?? '?'}${ids.container === ids.host ? '  (shared)' : ids.container ? '  (new)' : ''}`);
    }
    const joined = s.figures.joined as Record<string, { container: string; exec: string | null }> | undefined;
    if (joined) {
      lines.push("  namespace ids (readlink /proc/PID/ns/*), the container's init / the exec-init:");
      for (const [name, ids] of Object.entries(joined)) lines.push(`    ${name.padEnd(7)} ${ids.container} / ${ids.exec ?? '?'}${ids.exec === ids.container ? '  (joined)' : '  (not joined here)'}`);
    }
    if (s.figures.mountsAfter) {
      const after = s.figures.mountsAfter as string[];
      lines.push(`  mount table: the host has ${s.figures.mountsBefore ?? '?'} mounts, and the init's mount namespace began as a copy of them; after pivot_root and the detach of the old root, the container sees ${after.length}:`);
      lines.push(`    ${after.join(', ')}`);
    }
    if (s.figures.noLimit) lines.push(paint('1;31', `  ${capitalize(s.figures.noLimit as string)}`));
    if (s.without) lines.push(paint('35', `  ${capitalize(s.without)}`));
    return `${lines.join('\n')}\n`;
  }
}
