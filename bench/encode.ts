// bench/encode: the edge side against its peers, measured in one run.
//   1. crop vs re-encoding the same clip with libx264 at the same QP (goal >= 5x faster);
//   2. mvclass encode at --preset medium vs `ffmpeg -c:v libx264 -preset medium` with the same
//      x264 settings on the same clip (goal <= 1.05x its time), and whether the streams match.
// Run: npm run bench:encode

import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crop, encode } from '../src/index.js';
import { medianSeconds, runQuietly as run } from './support.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CACHE = path.join(ROOT, '.cache', 'bench');
const REPEAT = process.argv.includes('--quick') ? 1 : 3;

const median = (work: () => unknown): Promise<number> => medianSeconds(REPEAT, work);

function source(name: string, size: string, seconds: number): string {
  const file = path.join(CACHE, `${name}.mp4`);
  if (!existsSync(file)) {
    run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=s=${size}:r=25,scroll=h=0.002:v=0.001,format=yuv420p`, '-t', String(seconds), '-c:v', 'libx264', '-preset', 'fast', `${file}.tmp.mp4`]);
    renameSync(`${file}.tmp.mp4`, file);
  }
  return file;
}

async function main(): Promise<void> {
  mkdirSync(CACHE, { recursive: true });
  const scratch = path.join(os.tmpdir(), `mvclass-bench-encode-${process.pid}`);
  mkdirSync(scratch, { recursive: true });
  console.log(`mvclass bench/encode — ${os.cpus().length} cores, median of ${REPEAT}; seconds\n`);

  // 1. crop vs re-encode, on a paper-style stream (320x240, 25 fps, IDR then P, QP 30).
  const paper = path.join(scratch, 'paper.264');
  await encode(source('src-640x480', '640x480', 20), paper, { size: '320x240', fps: 25, qp: 30, gop: 0, threads: 0 });
  const tCrop = await median(() => crop(paper, path.join(scratch, 'cropped.264')));
  const tReencode = await median(() => encode(paper, path.join(scratch, 're.264'), { qp: 30, gop: 0 }));
  console.log('| task | seconds |\n|---|---|');
  console.log(`| crop a 20 s 320x240 QP 30 stream | ${tCrop.toFixed(3)} |`);
  console.log(`| re-encode it with libx264 at QP 30 (medium) | ${tReencode.toFixed(3)} |`);
  console.log(`\ncrop is ${(tReencode / tCrop).toFixed(1)}x faster than re-encoding (goal >= 5x)\n`);

  // 2. The binding vs the ffmpeg CLI: same source, same x264 settings, raw output.
  const src = source('src-1280x720', '1280x720', 10);
  const params = 'scenecut=0:merange=16:ref=1:bframes=0:keyint=infinite:crf=23';
  const ours = path.join(scratch, 'ours.264');
  const theirs = path.join(scratch, 'theirs.264');
  const tOurs = await median(() => encode(src, ours, { crf: 23, preset: 'medium' })); // no size or fps: keep the input's
  const tTheirs = await median(() =>
    run('ffmpeg', ['-v', 'error', '-y', '-i', src, '-c:v', 'libx264', '-preset', 'medium', '-x264-params', params, '-f', 'h264', theirs]),
  );
  const same = readFileSync(ours).equals(readFileSync(theirs));
  console.log('| 10 s 1280x720 -> H.264, preset medium, CRF 23 | seconds |\n|---|---|');
  console.log(`| mvclass encode (in-process, with per-frame statistics) | ${tOurs.toFixed(3)} |`);
  console.log(`| ffmpeg -c:v libx264 -preset medium | ${tTheirs.toFixed(3)} |`);
  console.log(`\nmvclass / ffmpeg = ${(tOurs / tTheirs).toFixed(3)}x (goal <= 1.05x); streams byte-identical: ${same ? 'yes' : 'no'}`);
  rmSync(scratch, { recursive: true, force: true });
}

await main();
