import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Emulator child processes and real fsync make integration files heavy; two cores here.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
