import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // test/: the service; bench/test/: the benchmarks' own honesty (their targets can fail, their load is what it says).
    include: ['test/**/*.test.ts', 'bench/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
