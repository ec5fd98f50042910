import { defineConfig } from 'vitest/config';

// Three projects: `unit` (everything quick), `guests` (real operating systems built from Debian packages, slow) and
// `e2e` (walk-throughs in a real VS Code). `npm test` runs all three; `npx vitest run --project unit` the quick ones
// alone. The e2e files run one after another in a single fork: each starts its own code-server and Chromium, and
// two of those at once on CI's two cores make both flaky.
export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    setupFiles: ['test/setup/yield-between-tests.ts'],
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/guests/**', 'test/e2e/**'] } },
      {
        extends: true,
        test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], fileParallelism: false, poolOptions: { forks: { singleFork: true } } },
      },
      { extends: true, test: { name: 'guests', include: ['test/guests/**/*.test.ts'], testTimeout: 900_000 } },
    ],
  },
});
