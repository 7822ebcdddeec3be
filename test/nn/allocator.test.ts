// The CPU tensor cache (native/nn/allocator.cc): a training step's large tensors are reused from
// one step to the next instead of being mapped and page-faulted afresh. Counted in minor page
// faults, which do not depend on the machine's load: a warm resnet18 step at batch 8 and 128 px
// faulted 23,000-32,000 times through glibc alone, and under 100 times with the cache. The same
// script with MVCLASS_TENSOR_CACHE_MB=0 (libtorch's own allocator) is the control.

import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../setup/helpers.js';

const dir = tempDir('mvclass-allocator-');

/** Minor page faults of each of four resnet18 train steps (batch 8, 128 px, 2 threads), and the losses, in a fresh process. */
async function stepFaults(cacheMb: string | undefined): Promise<{ faults: number[]; losses: number[] }> {
  const script = path.join(dir, 'steps.mjs');
  writeFileSync(
    script,
    `import { CnnModel } from ${JSON.stringify(path.join(ROOT, 'dist', 'src', 'index.js'))};
const model = await CnnModel.create({ model: 'resnet18', classes: ['a', 'b', 'c', 'd'], frames: 1, size: 128, width: 1, fc: 512 }, { threads: 2, seed: 3 });
const per = model.inputShape.reduce((a, b) => a * b, 1);
let s = 1;
const x = new Float32Array(8 * per).map(() => ((s = (s * 48271) % 2147483647) / 2147483647) - 0.5);
const y = new Int32Array(8).map((_, i) => i % 4);
const faults = [], losses = [];
for (let i = 0; i < 4; i++) {
  const before = process.resourceUsage().minorPageFault;
  losses.push((await model.trainStep(x, y, 0.01)).loss);
  faults.push(process.resourceUsage().minorPageFault - before);
}
process.stdout.write(JSON.stringify({ faults, losses }));
`,
  );
  const env = { ...process.env };
  if (cacheMb === undefined) delete env.MVCLASS_TENSOR_CACHE_MB;
  else env.MVCLASS_TENSOR_CACHE_MB = cacheMb;
  const { stdout } = await promisify(execFile)(process.execPath, [script], { env, maxBuffer: 1 << 20 });
  return JSON.parse(stdout) as { faults: number[]; losses: number[] };
}

describe('the CPU tensor cache', () => {
  it('warm train steps page-fault almost nothing, against thousands of faults with libtorch\'s allocator; the losses are the same', { timeout: 180_000 }, async () => {
    const cached = await stepFaults(undefined);
    const plain = await stepFaults('0');
    const warm = (r: { faults: number[] }) => r.faults[2]! + r.faults[3]!;
    // One 8x64x64x64 float activation mapped afresh is 512 faults; a step has dozens of them.
    expect(warm(cached)).toBeLessThan(1000);
    expect(warm(plain)).toBeGreaterThan(10 * Math.max(warm(cached), 100));
    // Same numbers: the cache hands out memory, it changes no result.
    expect(cached.losses).toEqual(plain.losses);
  });
});
