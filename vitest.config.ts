import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Emulator child processes and real fsync make integration files heavy; two cores here.
    fileParallelism: true,
    maxWorkers: 2,
    // The SDK's notice that its 2027 releases need Node 22 (see README) would repeat in every worker and child.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
