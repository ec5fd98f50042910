import { defineConfig } from 'vitest/config';

// Two projects: `unit` (everything quick) and `guests` (real operating systems built from Debian packages, slow).
// `npm test` runs both; `npx vitest run --project unit` the quick ones alone.
export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/guests/**'] } },
      { extends: true, test: { name: 'guests', include: ['test/guests/**/*.test.ts'], testTimeout: 900_000 } },
    ],
  },
});
