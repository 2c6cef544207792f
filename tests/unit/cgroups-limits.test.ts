import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { parseCgroupLimits, planCgroupFiles, requiredControllers, sharesToWeight, parseSizeBytes, type LimitEnv, type CgroupLimitFlags } from '../../src/cgroups/index.js';
import { cpusToQuotaUs, parseCpuList } from '../../src/cgroups/cpu.js';

const MiB = 1024 * 1024;

/** A host with 4 CPUs and two block devices: a disk (8:0) and its partition (8:1). */
const env: LimitEnv = {
  cpuCount: () => 4,
  onlineCpus: () => '0-3',
  statDevice(path) {
    if (path === '/dev/sda') return { isBlockDevice: true, major: 8, minor: 0, isPartition: false };
    if (path === '/dev/sda1') return { isBlockDevice: true, major: 8, minor: 1, isPartition: true };
    if (path === '/dev/null') return { isBlockDevice: false, major: 1, minor: 3, isPartition: false };
    const e = new Error(`ENOENT: no such file or directory, stat '${path}'`) as NodeJS.ErrnoException;
    e.code = 'ENOENT';
    throw e;
  },
};
const parse = (flags: CgroupLimitFlags) => parseCgroupLimits(flags, env);

function usageMessage(flags: CgroupLimitFlags): string {
  try {
    parse(flags);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error(`no error for ${JSON.stringify(flags)}`);
}

describe('sizes (docker units)', () => {
  it.each([
    ['512', 512],
    ['512b', 512],
    ['64k', 64 * 1024],
    ['64KB', 64 * 1024],
    ['64kib', 64 * 1024],
    ['512m', 512 * MiB],
    ['512MiB', 512 * MiB],
    ['512mb', 512 * MiB],
    ['1g', 1024 * MiB],
    ['1GB', 1024 * MiB],
    ['2GiB', 2048 * MiB],
    ['1.5g', 1536 * MiB],
    ['1 g', 1024 * MiB],
  ])('%s is %d bytes', (text, bytes) => {
    expect(parseSizeBytes(text)).toBe(bytes);
  });

  it.each(['abc', '', 'm', '-1', '1x', '1gg', '1bb', '1.2.3m', '1e3'])('%j is not a size', (text) => {
    expect(parseSizeBytes(text)).toBeNull();
  });
});

describe('parseCgroupLimits: memory', () => {
  it('turns --memory into memory.max bytes', () => {
    expect(parse({ memory: '512m' })).toEqual({ memoryMax: 512 * MiB });
  });

  it('rejects nonsense with the one-line message', () => {
    expect(usageMessage({ memory: 'abc' })).toBe("invalid --memory value 'abc': expected a size like 512m or 1g");
  });

  it('rejects less than docker’s 6m minimum', () => {
    expect(usageMessage({ memory: '4m' })).toContain('minimum memory limit is 6m');
  });

  it('turns --memory-swap (memory + swap) into swap alone', () => {
    expect(parse({ memory: '64m', memorySwap: '100m' })).toEqual({ memoryMax: 64 * MiB, memorySwapMax: 36 * MiB });
    expect(parse({ memory: '64m', memorySwap: '64m' }).memorySwapMax).toBe(0);
  });

  it('reads --memory-swap -1 as unlimited swap, and 0 as unset', () => {
    expect(parse({ memory: '64m', memorySwap: '-1' }).memorySwapMax).toBe('max');
    expect(parse({ memory: '64m', memorySwap: '0' })).toEqual({ memoryMax: 64 * MiB });
  });

  it('refuses --memory-swap below --memory or without it', () => {
    expect(usageMessage({ memory: '64m', memorySwap: '32m' })).toContain('must be at least --memory (64m)');
    expect(usageMessage({ memorySwap: '1g' })).toContain('needs --memory');
    expect(usageMessage({ memory: '64m', memorySwap: 'lots' })).toBe("invalid --memory-swap value 'lots': expected a size like 512m or 1g");
  });

  it('turns --memory-reservation into memory.low, not above --memory', () => {
    expect(parse({ memoryReservation: '32m' })).toEqual({ memoryLow: 32 * MiB });
    expect(usageMessage({ memory: '64m', memoryReservation: '128m' })).toContain('must not exceed --memory');
  });
});

describe('parseCgroupLimits: cpu', () => {
  it('turns --cpus into quota and period', () => {
    expect(parse({ cpus: '1.5' }).cpuMax).toEqual({ quotaUs: 150000, periodUs: 100000 });
    expect(parse({ cpus: '0.5' }).cpuMax).toEqual({ quotaUs: 50000, periodUs: 100000 });
    expect(cpusToQuotaUs('2')).toBe(200000);
  });

  it.each(['0', '-1', 'abc', '0.001', '1,5', ''])('rejects --cpus %j', (value) => {
    expect(usageMessage({ cpus: value })).toContain(`invalid --cpus value '${value}'`);
  });

  it('rejects more CPUs than the host has', () => {
    expect(usageMessage({ cpus: '5' })).toContain('only 4 CPUs');
  });

  it('maps --cpu-shares to cpu.weight as runc does (2->1, 1024->100, 262144->10000)', () => {
    expect(sharesToWeight(2)).toBe(1);
    expect(sharesToWeight(1024)).toBe(100);
    expect(sharesToWeight(262144)).toBe(10000);
    // Between the anchors: 10^((l^2 + 125 l)/612 - 7/34) rounded up, l = log2(shares).
    expect(sharesToWeight(512)).toBe(Math.ceil(10 ** ((81 + 1125) / 612 - 7 / 34)));
    expect(sharesToWeight(2048)).toBe(Math.ceil(10 ** ((121 + 1375) / 612 - 7 / 34)));
    expect(parse({ cpuShares: '1024' })).toEqual({ cpuWeight: 100 });
  });

  it('keeps the mapping monotonic over the whole range', () => {
    let previous = 0;
    for (let shares = 2; shares <= 262144; shares += 97) {
      const w = sharesToWeight(shares);
      expect(w).toBeGreaterThanOrEqual(previous);
      expect(w).toBeGreaterThanOrEqual(1);
      expect(w).toBeLessThanOrEqual(10000);
      previous = w;
    }
  });

  it('checks the ranges of --cpu-weight and --cpu-shares and refuses both at once', () => {
    expect(parse({ cpuWeight: '500' })).toEqual({ cpuWeight: 500 });
    expect(usageMessage({ cpuWeight: '0' })).toContain('from 1 to 10000');
    expect(usageMessage({ cpuWeight: '10001' })).toContain('from 1 to 10000');
    expect(usageMessage({ cpuShares: '1' })).toContain('from 2 to 262144');
    expect(usageMessage({ cpuShares: '1.5' })).toContain("invalid --cpu-shares value '1.5'");
    expect(usageMessage({ cpuWeight: '100', cpuShares: '1024' })).toContain('use one of them');
  });

  it('validates --cpuset-cpus syntax and that the CPUs are online', () => {
    expect(parse({ cpusetCpus: '0-1' })).toEqual({ cpusetCpus: '0-1' });
    expect(parse({ cpusetCpus: '0, 2-3' })).toEqual({ cpusetCpus: '0,2-3' });
    expect(parseCpuList('0-2,7')?.cpus).toEqual([0, 1, 2, 7]);
    for (const bad of ['a', '1-', '-1', '3-1', '0,,1', '', '0-1-2']) {
      expect(usageMessage({ cpusetCpus: bad })).toBe(`invalid --cpuset-cpus value '${bad}': expected a CPU list like 0-3 or 0,2,4-5`);
    }
    expect(usageMessage({ cpusetCpus: '2-4' })).toContain('CPU 4 is not online (online: 0-3)');
  });
});

describe('parseCgroupLimits: pids and io', () => {
  it('reads --pids-limit like docker (0 and -1 are unlimited)', () => {
    expect(parse({ pidsLimit: '64' })).toEqual({ pidsMax: 64 });
    expect(parse({ pidsLimit: '0' })).toEqual({ pidsMax: 'max' });
    expect(parse({ pidsLimit: '-1' })).toEqual({ pidsMax: 'max' });
    expect(usageMessage({ pidsLimit: '-2' })).toContain("invalid --pids-limit value '-2'");
    expect(usageMessage({ pidsLimit: 'many' })).toContain("invalid --pids-limit value 'many'");
  });

  it('resolves devices to MAJ:MIN and merges read and write limits per device', () => {
    expect(parse({ deviceReadBps: ['/dev/sda:1mb'], deviceWriteBps: ['/dev/sda:512k'] })).toEqual({
      io: [{ device: '/dev/sda', major: 8, minor: 0, rbps: MiB, wbps: 512 * 1024 }],
    });
  });

  it('names what is wrong with a device', () => {
    expect(usageMessage({ deviceReadBps: ['/dev/null:1mb'] })).toBe("invalid --device-read-bps value '/dev/null:1mb': /dev/null is not a block device");
    expect(usageMessage({ deviceWriteBps: ['/dev/nope:1mb'] })).toContain('cannot stat /dev/nope: ENOENT');
    expect(usageMessage({ deviceReadBps: ['/dev/sda1:1mb'] })).toContain('is a partition');
    expect(usageMessage({ deviceReadBps: ['/dev/sda'] })).toContain('expected DEVICE:RATE');
    expect(usageMessage({ deviceReadBps: ['/dev/sda:fast'] })).toContain('expected DEVICE:RATE');
    expect(usageMessage({ deviceReadBps: ['sda:1m'] })).toContain('expected DEVICE:RATE');
  });

  it('returns no limits for no flags', () => {
    expect(parse({})).toEqual({});
  });

  it('produces JSON-serialisable limits', () => {
    const limits = parse({ memory: '1g', memorySwap: '-1', cpus: '2', cpuShares: '512', cpusetCpus: '1', pidsLimit: '10', deviceReadBps: ['/dev/sda:1m'] });
    expect(JSON.parse(JSON.stringify(limits))).toEqual(limits);
  });
});

describe('planCgroupFiles and requiredControllers', () => {
  it('plans every file in a fixed order with its controller', () => {
    const limits = parse({
      memory: '64m', memorySwap: '96m', memoryReservation: '32m', cpus: '0.5', cpuWeight: '200', cpusetCpus: '0', pidsLimit: '64',
      deviceReadBps: ['/dev/sda:1m'], deviceWriteBps: ['/dev/sda:2m'],
    });
    expect(planCgroupFiles(limits).map(({ file, value, controller }) => ({ file, value, controller }))).toEqual([
      { file: 'cpuset.cpus', value: '0', controller: 'cpuset' },
      { file: 'cpu.weight', value: '200', controller: 'cpu' },
      { file: 'cpu.max', value: '50000 100000', controller: 'cpu' },
      { file: 'memory.low', value: String(32 * MiB), controller: 'memory' },
      { file: 'memory.max', value: '67108864', controller: 'memory' },
      { file: 'memory.swap.max', value: String(32 * MiB), controller: 'memory' },
      { file: 'pids.max', value: '64', controller: 'pids' },
      { file: 'io.max', value: `8:0 rbps=${MiB} wbps=${2 * MiB}`, controller: 'io' },
    ]);
    expect(requiredControllers(limits)).toEqual(['cpuset', 'cpu', 'memory', 'pids', 'io']);
  });

  it('writes "max" for unlimited values and needs nothing for no limits', () => {
    expect(planCgroupFiles(parse({ memory: '64m', memorySwap: '-1', pidsLimit: '-1' })).map((w) => `${w.file}=${w.value}`)).toEqual([
      'memory.max=67108864', 'memory.swap.max=max', 'pids.max=max',
    ]);
    expect(planCgroupFiles({})).toEqual([]);
    expect(requiredControllers({})).toEqual([]);
  });
});
