// bench/transcode: the transcode study's two stages against the ffmpeg CLI doing the same work,
// with the same number of jobs at once (default 2, this project's 2-core machine).
//   1. Transcode: every (cell, video) of a CRF x GOP grid encoded in-process with the study's own
//      options (transcodeEncodeOptions: x264 preset medium, one thread, short side capped,
//      bicubic) vs `ffmpeg -vf scale -c:v libx264 -preset medium` with the same x264 settings and
//      one thread (goal <= 1.0x its time). The study's encoder also writes x264's pass-1
//      statistics (the per-frame bit split); the CLI does not.
//   2. Quality: compareVideos (MAE, RMSE, PSNR and SSIM in one decoding pass of both files) on
//      every file vs `ffmpeg -lavfi ssim, psnr` (both filters in one graph, one process per
//      file), and the largest difference between their PSNR and SSIM.
//   3. With --jpeg (q-scales): every frame as a JPEG, encodeJpeg (the study's JPEG cells) vs
//      `ffmpeg -vf scale,setsar=1 -c:v mjpeg -q:v q -pix_fmt yuv420p -color_range tv` with one
//      thread, and how many of the files are byte for byte the CLI's.
// Medians of `repeat` runs, ours and theirs alternating.
// Run: npm run bench:transcode [-- --clips 6 --seconds 3 --crf 20,40 --gop 1,12 --jpeg 10,31 --short-side 180 --jobs 2 --repeat 3]

import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { cappedSize, transcodeEncodeOptions } from '../src/app/transcode-study.js';
import { encodeJpeg } from '../src/codec/encode.js';
import { compareVideos, encode, probe, synthesizeActionSet } from '../src/index.js';
import { openDataset } from '../src/datasets/open.js';
import { forEachLimit } from '../src/util/pool.js';
import { medianSeconds } from './support.js';

/** CPU seconds of this process, all its threads. */
function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** CPU seconds of this process's finished children (Linux: utime and stime of reaped children in /proc/self/stat). */
function childCpuSeconds(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  // After the command: state is field 3, so cutime (16) and cstime (17) are at 13 and 14 here.
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

/** Runs the ffmpeg CLI; its stderr (where the ssim and psnr filters report) is returned. */
function ffmpeg(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', ['-hide_banner', '-nostats', '-y', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(stderr) : reject(new Error(`ffmpeg ${args.join(' ')}: ${stderr}`))));
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      clips: { type: 'string', default: '6' },
      seconds: { type: 'string', default: '3' },
      crf: { type: 'string', default: '20,40' },
      gop: { type: 'string', default: '1,12' },
      jpeg: { type: 'string', default: '' },
      'short-side': { type: 'string', default: '180' },
      jobs: { type: 'string', default: '2' },
      repeat: { type: 'string', default: '3' },
    },
  });
  const clips = Number(values.clips);
  const jobs = Number(values.jobs);
  const repeat = Number(values.repeat);
  const crfs = values.crf.split(',').map(Number);
  const gops = values.gop.split(',').map(Number);
  const jpegs = values.jpeg === '' ? [] : values.jpeg.split(',').map(Number);
  const shortSide = Number(values['short-side']);
  const dir = path.join(os.tmpdir(), `mvclass-bench-transcode-${process.pid}`);
  const set = path.join(dir, 'set');
  mkdirSync(dir, { recursive: true });
  await synthesizeActionSet(set, { classes: 2, perClass: Math.ceil(clips / 2), seconds: Number(values.seconds), seed: 3 });
  const videos = (await openDataset(set)).items.map((i) => i.path).slice(0, clips);
  const sources = await Promise.all(videos.map(async (file) => ({ file, info: await probe(file) })));
  const tasks = crfs.flatMap((crf) => gops.flatMap((gop) => sources.map((s, i) => ({ crf, gop, ...s, size: cappedSize(s.info.width, s.info.height, shortSide), name: `crf${crf}-gop${gop}-${i}` }))));
  mkdirSync(path.join(dir, 'ours'), { recursive: true });
  mkdirSync(path.join(dir, 'theirs'), { recursive: true });
  const ours = (t: (typeof tasks)[number]) => path.join(dir, 'ours', `${t.name}.mp4`);
  const theirs = (t: (typeof tasks)[number]) => path.join(dir, 'theirs', `${t.name}.mp4`);
  const jpegTasks = jpegs.flatMap((q) => sources.map((s, i) => ({ q, ...s, size: cappedSize(s.info.width, s.info.height, shortSide), name: `jpeg-q${q}-${i}` })));
  const jpegOf = (side: 'ours' | 'theirs', t: (typeof jpegTasks)[number]) => path.join(dir, side, `${t.name}.avi`);
  const jpegOurs = () => forEachLimit(jpegTasks, jobs, async (t) => void (await encodeJpeg(t.file, jpegOf('ours', t), { q: t.q, size: `${t.size.width}x${t.size.height}` })));
  const jpegTheirs = () =>
    forEachLimit(jpegTasks, jobs, async (t) => {
      await ffmpeg(['-v', 'error', '-threads', '1', '-i', t.file, '-vf', `scale=${t.size.width}:${t.size.height}:flags=bicubic,setsar=1`, '-c:v', 'mjpeg', '-q:v', String(t.q), '-pix_fmt', 'yuv420p', '-color_range', 'tv', '-strict', 'unofficial', '-threads', '1', '-an', jpegOf('theirs', t)]);
    });

  const encodeOurs = () => forEachLimit(tasks, jobs, async (t) => void (await encode(t.file, ours(t), transcodeEncodeOptions({ crf: t.crf }, t.gop, t.size))));
  const encodeTheirs = () =>
    forEachLimit(tasks, jobs, async (t) => {
      const params = `scenecut=0:merange=16:ref=1:bframes=0:keyint=${t.gop}:min-keyint=${t.gop}:crf=${t.crf}`;
      await ffmpeg(['-v', 'error', '-threads', '1', '-i', t.file, '-vf', `scale=${t.size.width}:${t.size.height}:flags=bicubic`, '-c:v', 'libx264', '-preset', 'medium', '-threads', '1', '-x264-params', params, '-an', theirs(t)]);
    });
  const quality = new Map<string, { psnr: number; ssim: number; ssimY: number }>();
  const measureOurs = () =>
    forEachLimit(tasks, jobs, async (t) => {
      const q = await compareVideos({ reference: t.file, distorted: ours(t), width: t.size.width, height: t.size.height });
      quality.set(t.name, { psnr: q.psnr.average, ssim: q.ssim.all, ssimY: q.ssim.y });
    });
  const ffmpegQuality = new Map<string, { psnr: number; ssim: number; ssimY: number }>();
  const ffmpegSsim = async (t: (typeof tasks)[number], extra: string[] = []) => {
    const graph = `[1:v]scale=${t.size.width}:${t.size.height}:flags=bicubic,format=yuv420p[r];[0:v]format=yuv420p[d];[d][r]ssim`;
    const log = await ffmpeg(['-v', 'info', ...extra, '-i', ours(t), '-i', t.file, '-lavfi', graph, '-f', 'null', '-']);
    return Number(/SSIM .* All:([\d.]+)/.exec(log)?.[1]);
  };
  const measureTheirs = () =>
    forEachLimit(tasks, jobs, async (t) => {
      const graph = `[1:v]scale=${t.size.width}:${t.size.height}:flags=bicubic,format=yuv420p,split[r1][r2];[0:v]format=yuv420p,split[d1][d2];[d1][r1]ssim[s];[d2][r2]psnr[p]`;
      const log = await ffmpeg(['-v', 'info', '-threads', '1', '-i', ours(t), '-threads', '1', '-i', t.file, '-lavfi', graph, '-map', '[s]', '-f', 'null', '-', '-map', '[p]', '-f', 'null', '-']);
      const ssim = Number(/SSIM .* All:([\d.]+)/.exec(log)?.[1]);
      const ssimY = Number(/SSIM Y:([\d.]+)/.exec(log)?.[1]);
      const psnr = /PSNR .* average:(inf|[\d.]+)/.exec(log)?.[1];
      ffmpegQuality.set(t.name, { ssim, ssimY, psnr: psnr === 'inf' ? Infinity : Number(psnr) });
    });

  // Wall-clock seconds and CPU seconds (ours: this process's threads; theirs: the reaped children's).
  type Sample = { wall: number; cpu: number };
  const times: Record<'encodeOurs' | 'encodeTheirs' | 'measureOurs' | 'measureTheirs' | 'jpegOurs' | 'jpegTheirs', Sample[]> = { encodeOurs: [], encodeTheirs: [], measureOurs: [], measureTheirs: [], jpegOurs: [], jpegTheirs: [] };
  const timed = async (key: keyof typeof times, work: () => Promise<void>, cpu: () => number) => {
    const c0 = cpu();
    const wall = await medianSeconds(1, work);
    times[key].push({ wall, cpu: cpu() - c0 });
  };
  for (let r = 0; r < repeat; r++) {
    // Alternating which goes first, so that a change in the machine's load does not favour one side.
    const pairs: Array<[keyof typeof times, () => Promise<void>, () => number]> = [
      ['encodeOurs', encodeOurs, ownCpuSeconds],
      ['encodeTheirs', encodeTheirs, childCpuSeconds],
      ['measureOurs', measureOurs, ownCpuSeconds],
      ['measureTheirs', measureTheirs, childCpuSeconds],
    ];
    if (jpegTasks.length > 0) pairs.push(['jpegOurs', jpegOurs, ownCpuSeconds], ['jpegTheirs', jpegTheirs, childCpuSeconds]);
    if (r % 2) for (let k = 0; k < pairs.length; k += 2) [pairs[k], pairs[k + 1]] = [pairs[k + 1]!, pairs[k]!];
    for (const [key, work, cpu] of pairs) await timed(key, work, cpu);
  }
  const median = (xs: Sample[], k: keyof Sample) => xs.map((x) => x[k]).sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const [eo, et, mo, mt] = [median(times.encodeOurs, 'wall'), median(times.encodeTheirs, 'wall'), median(times.measureOurs, 'wall'), median(times.measureTheirs, 'wall')];
  const [ceo, cet, cmo, cmt] = [median(times.encodeOurs, 'cpu'), median(times.encodeTheirs, 'cpu'), median(times.measureOurs, 'cpu'), median(times.measureTheirs, 'cpu')];
  let dPsnr = 0;
  let dSsim = 0;
  let dSsimY = 0;
  for (const [name, q] of quality) {
    const f = ffmpegQuality.get(name)!;
    if (Number.isFinite(q.psnr) || Number.isFinite(f.psnr)) dPsnr = Math.max(dPsnr, Math.abs(q.psnr - f.psnr));
    dSsim = Math.max(dSsim, Math.abs(q.ssim - f.ssim));
    dSsimY = Math.max(dSsimY, Math.abs(q.ssimY - f.ssimY));
  }
  // Where SSIM differs by more than the quality test allows, FFmpeg's C code (no SIMD) is asked too.
  let dSsimC = 0;
  let rechecked = 0;
  for (const t of tasks) {
    const q = quality.get(t.name)!;
    if (Math.abs(q.ssim - ffmpegQuality.get(t.name)!.ssim) <= 0.0005) continue;
    rechecked++;
    dSsimC = Math.max(dSsimC, Math.abs(q.ssim - (await ffmpegSsim(t, ['-cpuflags', '0']))));
  }
  const size = `${sources[0]!.info.width}x${sources[0]!.info.height}`;
  console.log(`${sources.length} clips of ${values.seconds} s at ${size}, CRF ${crfs.join(',')} x GOP ${gops.join(',')}, short side ${shortSide}: ${tasks.length} files, ${jobs} jobs at once, ${os.availableParallelism()} cores; medians of ${repeat}\n`);
  console.log('| stage | mvclass (in-process), s | ffmpeg CLI, s | ratio | CPU s, mvclass | CPU s, ffmpeg | CPU ratio |\n|---|---|---|---|---|---|---|');
  console.log(`| transcode (x264 preset medium, 1 thread each) | ${eo.toFixed(2)} | ${et.toFixed(2)} | ${(eo / et).toFixed(3)}x (goal <= 1.0x) | ${ceo.toFixed(2)} | ${cet.toFixed(2)} | ${(ceo / cet).toFixed(3)}x |`);
  console.log(`| quality (ours: MAE, RMSE, PSNR, SSIM; ffmpeg: ssim + psnr) | ${mo.toFixed(2)} | ${mt.toFixed(2)} | ${(mo / mt).toFixed(3)}x | ${cmo.toFixed(2)} | ${cmt.toFixed(2)} | ${(cmo / cmt).toFixed(3)}x |`);
  console.log(`\nlargest difference from ffmpeg's filters over ${quality.size} files: PSNR average ${dPsnr.toFixed(4)} dB, SSIM All ${dSsim.toFixed(6)}, SSIM Y ${dSsimY.toFixed(6)}`);
  if (jpegTasks.length > 0) {
    const [jo, jt, cjo, cjt] = [median(times.jpegOurs, 'wall'), median(times.jpegTheirs, 'wall'), median(times.jpegOurs, 'cpu'), median(times.jpegTheirs, 'cpu')];
    // The pictures, not the AVI around them (whose headers name the writer): the JPEGs in stream order, copied out.
    const pictures = (file: string) => spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-c', 'copy', '-f', 'mjpeg', '-'], { maxBuffer: 1 << 30 }).stdout;
    const same = jpegTasks.filter((t) => pictures(jpegOf('ours', t)).equals(pictures(jpegOf('theirs', t)))).length;
    console.log(`\n| stage | mvclass (in-process), s | ffmpeg CLI, s | ratio | CPU s, mvclass | CPU s, ffmpeg | CPU ratio |\n|---|---|---|---|---|---|---|`);
    console.log(`| JPEG frames (mjpeg, q ${jpegs.join(',')}, 1 thread each; ${jpegTasks.length} files) | ${jo.toFixed(2)} | ${jt.toFixed(2)} | ${(jo / jt).toFixed(3)}x | ${cjo.toFixed(2)} | ${cjt.toFixed(2)} | ${(cjo / cjt).toFixed(3)}x |`);
    console.log(`${same} of ${jpegTasks.length} files hold the very JPEGs the ffmpeg CLI wrote, byte for byte`);
  }
  if (rechecked > 0) console.log(`${rechecked} files differed in SSIM All by more than 0.0005; against FFmpeg's ssim without SIMD (-cpuflags 0) the largest difference is ${dSsimC.toFixed(6)}`);
  rmSync(dir, { recursive: true, force: true });
}

await main();
