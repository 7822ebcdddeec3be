// bench/loader: training volumes per second through VolumeLoader (augmentation on) from
// in-memory synthetic clips, on one core (no worker threads). Goal: >= 500 volumes/s for
// 3d [2,160,24,24].
// Run: npx tsc -p tsconfig.json && node dist/bench/loader.js  (--quick for a shorter run)

import { VolumeLoader } from '../src/volumes/index.js';
import type { ClipSource, Layout, MotionClip } from '../src/volumes/index.js';
import { mulberry32 } from '../src/util/random.js';

const GOAL = 500;
const quick = process.argv.includes('--quick');
const CLIPS = 64;
const FRAMES = 100;
const ROWS = 30;
const COLS = 40;

function syntheticClips(count: number, seed: number): MotionClip[] {
  const rng = mulberry32(seed);
  return Array.from({ length: count }, () => {
    const data = new Float32Array(FRAMES * 2 * ROWS * COLS);
    for (let i = 0; i < data.length; i++) data[i] = (rng() - 0.5) * 16;
    return { frames: FRAMES, rows: ROWS, cols: COLS, data };
  });
}

function memorySource(clips: MotionClip[]): ClipSource {
  return {
    length: clips.length,
    clip: (i) => Promise.resolve(clips[i]!),
    label: (i) => i % 10,
  };
}

interface Result {
  volumes: number;
  seconds: number;
  /** User + system CPU seconds of the process over the same span: about `seconds` on one core. */
  cpu: number;
  shape: number[];
}

async function measure(source: ClipSource, frames: number, size: number, layout: Layout, epochs: number): Promise<Result> {
  const loader = new VolumeLoader(source, { batchSize: 16, frames, size, layout, shuffle: true, seed: 1, augment: true, prefetch: 2 });
  let checksum = 0;
  // Warm-up epoch (JIT), not timed.
  for await (const batch of loader) checksum += batch.data[0]!;
  let volumes = 0;
  let shape: number[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let e = 0; e < epochs; e++) {
    for await (const batch of loader) {
      volumes += batch.shape[0]!;
      shape = batch.shape.slice(1);
      checksum += batch.data[batch.data.length - 1]!;
    }
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const used = process.cpuUsage(cpu0);
  const cpu = (used.user + used.system) / 1e6;
  if (!Number.isFinite(checksum)) throw new Error('non-finite output');
  return { volumes, seconds, cpu, shape };
}

function line(name: string, r: Result): void {
  const rate = r.volumes / r.seconds;
  console.log(
    `${name.padEnd(4)} [${r.shape.join(',')}]`.padEnd(22) +
      `${r.volumes} volumes in ${r.seconds.toFixed(3)} s (cpu ${r.cpu.toFixed(3)} s)  ->  ${rate.toFixed(0).padStart(6)} volumes/s  ` +
      `(${(rate / GOAL).toFixed(2)}x the goal of ${GOAL}/s${rate >= GOAL ? ', met' : ', MISSED'})`,
  );
}

async function main(): Promise<void> {
  const source = memorySource(syntheticClips(CLIPS, 42));
  const epochs = quick ? 2 : 16;
  console.log(`VolumeLoader, augment on, batch 16, prefetch 2, ${CLIPS} in-memory clips of ${FRAMES}x${ROWS}x${COLS}, one core, node ${process.version}`);
  line('3d', await measure(source, 160, 24, '3d', epochs));
  line('2d', await measure(source, 60, 48, '2d', epochs));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
