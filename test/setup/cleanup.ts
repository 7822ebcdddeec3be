// Runs in every test file's context: removes the folders its tests made with tempDir() once the
// file ends (its own after-hooks, which stop redis and the worker processes, run before this
// one). Without it every run of the suite left its folders behind, gigabytes per run.
// MVCLASS_KEEP_TEMP=1 keeps them, for looking at what a failing test wrote.

import { rmSync } from 'node:fs';
import { afterAll } from 'vitest';
import { madeTempDirs } from './helpers.js';

afterAll(() => {
  if (process.env.MVCLASS_KEEP_TEMP === '1') return;
  for (const dir of madeTempDirs) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  madeTempDirs.clear();
});
