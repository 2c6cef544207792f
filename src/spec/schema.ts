/**
 * The options of a run, as the programmatic API and the CLI give them. zod checks their
 * shape; run-spec.ts then turns them into one validated RunSpec before anything is touched.
 */
import { z } from 'zod';
import { ALL_RUN_FLAGS, flagName } from '../cli/run-flags.js';

const stdioChoice = z.union([z.literal('inherit'), z.literal('ignore'), z.number().int().min(0)]);

export const runOptionsSchema = z
  .object({
    /** Tar archive (plain or gzip), "-" for stdin, or a directory. */
    rootfs: z.string().min(1, 'the rootfs path is empty'),
    /** Command and arguments; empty means /bin/sh. */
    command: z.array(z.string()).default([]),
    /** State root (cache, containers); default $TSBOX_ROOT or /var/lib/tsbox. */
    root: z.string().min(1).optional(),
    readOnly: z.boolean().default(false),
    /** With readOnly: a tmpfs on /tmp, /var/tmp and /run (podman's --read-only-tmpfs). */
    readOnlyTmpfs: z.boolean().default(true),
    hostname: z.string().optional(),
    env: z.array(z.string()).default([]),
    envFiles: z.array(z.string()).default([]),
    workdir: z.string().optional(),
    user: z.string().optional(),
    volumes: z.array(z.string()).default([]),
    tmpfs: z.array(z.string()).default([]),
    maxRootfsSize: z.union([z.string(), z.number().int().positive()]).optional(),
    maxRootfsEntries: z.union([z.string(), z.number().int().positive()]).optional(),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('warn'),
    logFormat: z.enum(['json', 'pretty']).default('json'),
    debug: z.boolean().default(false),
    /** --explain: each setup step explained on stderr, as text or JSON (src/explain). */
    explain: z.enum(['text', 'json']).optional(),
    /** false: resolve paths inside the root without openat2, as on kernels before 5.6 (testing only). */
    openat2: z.boolean().default(true),
    // Security (docker's flags): capabilities, --privileged, --security-opt.
    capAdd: z.array(z.string()).default([]),
    capDrop: z.array(z.string()).default([]),
    privileged: z.boolean().default(false),
    securityOpt: z.array(z.string()).default([]),
    // Resources (docker's flags and units), applied through cgroup v2.
    cgroupParent: z.string().optional(),
    memory: z.string().optional(),
    memorySwap: z.string().optional(),
    memoryReservation: z.string().optional(),
    cpus: z.string().optional(),
    cpuWeight: z.string().optional(),
    cpuShares: z.string().optional(),
    cpusetCpus: z.string().optional(),
    pidsLimit: z.string().optional(),
    deviceReadBps: z.array(z.string()).default([]),
    deviceWriteBps: z.array(z.string()).default([]),
    // Devices (docker's flags): nodes for host devices, and rules of the device policy.
    devices: z.array(z.string()).default([]),
    deviceCgroupRules: z.array(z.string()).default([]),
    // Networking (docker's flags; network/container-network.ts). Default none: see docs/networking.md.
    /** Unset: none, or bridge when -p/-P is given (network/container-network-config.ts defaultNetwork). */
    network: z.string().min(1).optional(),
    networkAliases: z.array(z.string()).default([]),
    publish: z.array(z.string()).default([]),
    publishAll: z.boolean().default(false),
    ip: z.string().optional(),
    macAddress: z.string().optional(),
    dns: z.array(z.string()).default([]),
    dnsSearch: z.array(z.string()).default([]),
    dnsOptions: z.array(z.string()).default([]),
    addHosts: z.array(z.string()).default([]),
    /** Print a one-line resource summary at exit; write it as JSON to statsFile. */
    stats: z.boolean().default(false),
    statsFile: z.string().optional(),
    // Lifecycle (runtime/lifecycle.ts): a name, background runs, a terminal, an init.
    name: z.string().optional(),
    detach: z.boolean().default(false),
    /** Remove the container when it exits, even with a name or -d (docker's --rm). */
    rm: z.boolean().default(false),
    tty: z.boolean().default(false),
    init: z.boolean().default(false),
    /** Container labels (docker's --label KEY=VALUE, --label-file), recorded for ps filters and inspect. */
    labels: z.array(z.string()).default([]),
    labelFiles: z.array(z.string()).default([]),
    /** A kept container's log limits (--log-opt max-size=10m, max-file=3). */
    logOpts: z.array(z.string()).default([]),
    stdin: stdioChoice.default('inherit'),
    stdout: stdioChoice.default('inherit'),
    stderr: stdioChoice.default('inherit'),
  })
  .strict();

export type RunOptions = z.input<typeof runOptionsSchema>;
export type ParsedRunOptions = z.output<typeof runOptionsSchema>;

/** Flag names for error messages: the API field "readOnly" is "--read-only" on the CLI (from the flag table). */
export const FLAG_NAMES: Record<string, string> = { rootfs: 'ROOTFS', command: 'COMMAND' };
for (const row of ALL_RUN_FLAGS) if (row.key !== null) FLAG_NAMES[row.key] ??= flagName(row);
