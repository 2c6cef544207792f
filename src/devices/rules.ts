/**
 * Device rules: which device nodes a container may open (read, write) and create (mknod).
 * Docker's syntax and defaults; pure. The rules become a cgroup device program
 * (devices/program.ts) that the kernel runs on every open and mknod of a device node by a
 * process of the container's group: whatever node the container finds or makes (shipped
 * in the image, created with CAP_MKNOD, on a devtmpfs it mounted), only these devices open.
 */
import { z } from 'zod';
import { UsageError } from '../errors.js';

/** a: any type, c: character, b: block. */
export type DeviceType = 'a' | 'c' | 'b';

export interface DeviceRule {
  type: DeviceType;
  /** A number, or '*' for any. */
  major: number | '*';
  minor: number | '*';
  /** Some of "rwm" in that order: read, write, mknod. */
  access: string;
}

/** Linux's dev_t: 12 bits of major, 20 of minor (MINORBITS). */
export const MAX_MAJOR = 0xfff;
export const MAX_MINOR = 0xfffff;

/**
 * What every container may use: the nodes tsbox makes in its /dev (mounts/plan.ts), the
 * pty multiplexer and its ptys (the kernel opens them only through a devpts, so the
 * container's own), tun (its interfaces live in the container's network namespace), and
 * mknod of any node (a node it may not open is harmless). docker's default list, its own
 * plus runc's (runc 1.2.0 dropped tun, 1.2.4 restored it), less the console (c 5:1): tsbox
 * gives a container no /dev/console, and a node made for 5:1 is the host's console.
 */
export const DEFAULT_DEVICE_RULES: readonly DeviceRule[] = [
  { type: 'c', major: '*', minor: '*', access: 'm' },
  { type: 'b', major: '*', minor: '*', access: 'm' },
  { type: 'c', major: 1, minor: 3, access: 'rwm' }, // null
  { type: 'c', major: 1, minor: 5, access: 'rwm' }, // zero
  { type: 'c', major: 1, minor: 7, access: 'rwm' }, // full
  { type: 'c', major: 1, minor: 8, access: 'rwm' }, // random
  { type: 'c', major: 1, minor: 9, access: 'rwm' }, // urandom
  { type: 'c', major: 5, minor: 0, access: 'rwm' }, // tty
  { type: 'c', major: 5, minor: 2, access: 'rwm' }, // ptmx
  { type: 'c', major: 136, minor: '*', access: 'rwm' }, // the ptys of the container's devpts
  { type: 'c', major: 10, minor: 200, access: 'rwm' }, // tun
];

/** "rw" / "mr" / "wrm" -> "rwm" order, or null when it is not a non-empty set of r, w, m. */
export function canonicalAccess(text: string): string | null {
  if (!/^[rwm]{1,3}$/.test(text) || new Set(text).size !== text.length) return null;
  return ['r', 'w', 'm'].filter((c) => text.includes(c)).join('');
}

const number = (max: number, what: string) =>
  z
    .string()
    .regex(/^(\*|[0-9]{1,7})$/, `the ${what} is not a number or *`)
    .transform((s): number | '*' => (s === '*' ? '*' : Number(s)))
    .refine((n) => n === '*' || n <= max, `the ${what} is larger than ${max}, the largest Linux has`);

/**
 * docker's --device-cgroup-rule: "TYPE MAJOR:MINOR ACCESS", e.g. 'c 1:3 rwm', 'b 7:* rw', 'a *:* m'.
 * Built on first use: constructing zod schemas costs ~0.5 ms at start-up, and most runs
 * give no rule.
 */
let ruleSchemaBuilt: ReturnType<typeof buildRuleSchema> | undefined;
const ruleSchema = () => (ruleSchemaBuilt ??= buildRuleSchema());

const buildRuleSchema = () => z
  .string()
  .transform((s) => s.trim())
  .pipe(z.string().regex(/^\S+ \S+:\S+ \S+$/, 'expected TYPE MAJOR:MINOR ACCESS'))
  .transform((s) => {
    const [type, numbers, access] = s.split(' ') as [string, string, string];
    const [major, minor] = numbers.split(':') as [string, string];
    return { type, major, minor, access };
  })
  .pipe(
    z.object({
      type: z.enum(['a', 'c', 'b'], { message: 'the type is not a (all), c (char) or b (block)' }),
      major: number(MAX_MAJOR, 'major number'),
      minor: number(MAX_MINOR, 'minor number'),
      access: z
        .string()
        .transform((a) => canonicalAccess(a))
        .refine((a): a is string => a !== null, 'the access is not a combination of r, w and m'),
    }),
  );

export function parseDeviceCgroupRule(text: string): DeviceRule {
  const parsed = ruleSchema().safeParse(text);
  if (!parsed.success) {
    throw new UsageError(`invalid --device-cgroup-rule '${text}': ${parsed.error.issues[0]!.message}`, {
      hint: "Use TYPE MAJOR:MINOR ACCESS, e.g. 'c 1:3 rwm' or 'b 7:* rw' (type a, c or b; * for any number; access of r, w, m).",
    });
  }
  return parsed.data as DeviceRule;
}

export function formatDeviceRule(rule: DeviceRule): string {
  return `${rule.type} ${rule.major}:${rule.minor} ${rule.access}`;
}
