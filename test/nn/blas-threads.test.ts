// OpenBLAS runs each call on its caller's thread from the moment the nn addon loads, unless the
// user set OPENBLAS_NUM_THREADS (native/nn/addon.cc, OneThreadBlasUnlessAsked). Checked in fresh
// processes, since the setting is the process's: the default, the user's own count kept, and a
// library process (no server, no gate) that forks again and again while a network scores. With
// OpenBLAS's own threads that loop hung at the first fork (its pthread_atfork handler joined a
// thread that had gone to sleep for good); it is killed after 30 s without a scoring here.

import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../setup/helpers.js';
import { forkWhileScoring } from '../support/fork.js';

const NATIVE = JSON.stringify(path.join(ROOT, 'dist', 'src', 'nn', 'native.js'));

/** The environment without the runner's own OpenBLAS setting, plus `extra`. */
function environment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { OPENBLAS_NUM_THREADS: _, ...env } = process.env;
  return { ...env, ...extra };
}

async function blasThreads(env: NodeJS.ProcessEnv): Promise<number | null> {
  const script = `import { nnAddon } from ${NATIVE}; console.log(JSON.stringify(nnAddon().blasThreads()));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { env });
  return JSON.parse(stdout) as number | null;
}

describe("OpenBLAS's threads", () => {
  it('one from the addon\'s load; a count the user set in OPENBLAS_NUM_THREADS is kept', async () => {
    expect(await blasThreads(environment())).toBe(1);
    expect(await blasThreads(environment({ OPENBLAS_NUM_THREADS: '2' }))).toBe(2);
  });

  it('a library process forks again and again while a network scores, and never hangs', { timeout: 90_000 }, async () => {
    const { code, forks, out } = await forkWhileScoring({ env: environment() });
    expect(code, `the child hung (killed after 30 s without a scoring) or failed: ${out}`).toBe(0);
    expect(forks).toBeGreaterThanOrEqual(20);
  });
});
