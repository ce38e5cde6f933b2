import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // test/: the service; bench/test/: the benchmarks' own honesty (their targets can fail, their load is what it says).
    include: ['test/**/*.test.ts', 'bench/test/**/*.test.ts'],
    // Worker threads run dist/: refused when it is older than src/ (test/setup/builtFromSource.ts).
    globalSetup: ['test/setup/builtFromSource.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
