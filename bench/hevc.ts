// bench/hevc: HEVC motion-vector extraction (libde265, with the walk of hevc.cc) against
// FFmpeg's own single-threaded HEVC decode of the same file, `ffmpeg -threads 1 -i X -f null -`,
// measured in one run. Goal: at most 2x FFmpeg's time (libde265 decodes about 1.8-2.2x slower
// than FFmpeg's HEVC decoder; mvclass skips the loop filters, which vectors do not need).
// Also: vectors only vs vectors + MotionGrid, and the .npy bundle through the CLI's extract.
// Run: npm run bench:hevc  (--quick for a smaller run)

import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeVideo, extractMotion } from '../src/index.js';
import { medianSeconds, runQuietly as run } from './support.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CACHE = path.join(ROOT, '.cache', 'bench');
const quick = process.argv.includes('--quick');
const REPEAT = quick ? 1 : 3;

/** A scrolling pattern encoded with libx265: `bframes` 0 is the paper's IDR-then-P setting. */
function clip(size: string, seconds: number, bframes: number): string {
  mkdirSync(CACHE, { recursive: true });
  const file = path.join(CACHE, `hevc-${size}-${seconds}s-b${bframes}.mp4`);
  if (!existsSync(file)) {
    const temp = `${file}.tmp.mp4`;
    run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=s=${size}:r=25,scroll=h=0.002:v=0.001`, '-t', String(seconds), '-c:v', 'libx265', '-preset', 'fast', '-x265-params', `log-level=none:bframes=${bframes}`, temp]);
    renameSync(temp, file);
  }
  return file;
}

const time = (work: () => unknown | Promise<unknown>): Promise<number> => medianSeconds(REPEAT, work);

async function drain(file: string, grid: boolean): Promise<number> {
  let n = 0;
  for await (const batch of decodeVideo(file, { vectors: true, ...(grid ? { grid: 8 } : {}) })) n += batch.vectors!.length;
  return n;
}

const seconds = quick ? 4 : 10;
const cases = [
  { name: `320x240 ${seconds} s, I then P (paper)`, file: clip('320x240', seconds, 0) },
  { name: `1280x720 ${seconds} s, B-frames`, file: clip('1280x720', seconds, 4) },
];
const rows: string[][] = [];
for (const c of cases) {
  const vectors = await drain(c.file, false);
  const ffmpeg = await time(() => run('ffmpeg', ['-v', 'error', '-threads', '1', '-i', c.file, '-f', 'null', '-']));
  const ours = await time(() => drain(c.file, false));
  const withGrid = await time(() => drain(c.file, true));
  const out = path.join(os.tmpdir(), `mvclass-bench-hevc-${process.pid}`);
  const npy = await time(async () => {
    rmSync(out, { recursive: true, force: true });
    await extractMotion(c.file, { format: 'npy', out, keyFrames: false });
  });
  rmSync(out, { recursive: true, force: true });
  rows.push([c.name, String(vectors), ffmpeg.toFixed(3), ours.toFixed(3), (ours / ffmpeg).toFixed(2), (withGrid / ffmpeg).toFixed(2), (npy / ffmpeg).toFixed(2)]);
}

console.log(`bench/hevc (${os.cpus().length} cores, median of ${REPEAT}); ratio = mvclass time / ffmpeg -threads 1 -f null time, goal <= 2.00\n`);
console.log('| clip | vectors | ffmpeg s | mvclass vectors s | ratio | ratio with grid | ratio .npy bundle |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
