import { defineConfig } from 'vitest/config';

/**
 * Tests that time real traffic between network namespaces (probes, live capture) run one file at
 * a time on an otherwise idle machine, as their timeouts and intervals assume; every other file
 * compares outputs with the real tools and runs two at a time, which keeps both cores busy (one
 * worker, vitest's default on 2 cores, left one idle while tshark and tcpdump ran).
 */
const timedTraffic = ['test/probes/**/*.test.ts', 'test/capture/live.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: { name: 'offline', include: ['test/**/*.test.ts'], exclude: timedTraffic, maxWorkers: 2, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'network', include: timedTraffic, maxWorkers: 1, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
