// The guest suite: boots real QEMU guests on each supported distribution
// kernel. Slow (kernel builds are cached under ~/.cache/gs-kit); run with
// `npm run test:vm`. GS_SERIES=6.1 limits it to one series.
export default {
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx/esm'],
  files: ['cli/test-vm/**/*.test.ts'],
  timeout: '40m',
  // One file per SUITE_GROUPS group, side by side: one guest per core.
  concurrency: 2,
  workerThreads: false,
  verbose: true,
};
