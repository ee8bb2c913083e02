import path from 'node:path';
import { defineConfig } from 'vitest/config';

const shared = path.resolve(import.meta.dirname, '..', 'shared');

// Tests run real models on real images; two cores means few files at once.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 300_000,
    globalSetup: ['test/global-setup.ts'],
    env: {
      VISOR_MODELS_PATH: path.join(shared, 'models'),
      VISOR_DATASETS_PATH: path.join(shared, 'datasets'),
      // Tests never reach the network: a missing model is an error, not a download.
      VISOR_OFFLINE: '1',
    },
  },
});
