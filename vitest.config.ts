import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const pkg = (name: string) => fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url));

// Tests import packages by name and run against their TypeScript sources directly.
export default defineConfig({
  resolve: {
    alias: {
      '@webgrad/kernels': pkg('kernels'),
      '@webgrad/core': pkg('core'),
      '@webgrad/nn': pkg('nn'),
      '@webgrad/optim': pkg('optim'),
      '@webgrad/rl': pkg('rl'),
    },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/**/*.test.ts', 'benchmarks/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    setupFiles: ['packages/core/test/setup_devices.ts'],
    pool: 'forks',
    fileParallelism: true,
  },
});
