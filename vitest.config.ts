import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** The suite-wide leak check must run after every other test file. */
class LeakCheckLast extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const isLeakCheck = (f: TestSpecification) => f.moduleId.endsWith('zz-leak-check.test.ts');
    return [...sorted.filter((f) => !isLeakCheck(f)), ...sorted.filter(isLeakCheck)];
  }
}

// Unit tests (tests/unit) are pure; integration tests (tests/integration) start real
// containers as root. Files run one at a time so that host-wide checks (the leak check,
// tests/integration/zz-leak-check.test.ts, last) see only what the suite itself did.
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    globalSetup: ['tests/helpers/global-setup.ts'],
    sequence: { sequencer: LeakCheckLast },
  },
});
