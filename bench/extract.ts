// bench/extract: mvclass motion-vector extraction against its peers, measured in one run.
//   1. per file, vs FFmpeg's extract_mvs writing its CSV to a file (goal >= 2x faster),
//      with the vectors checked identical first;
//   2. vs plain single-threaded decoding, ffmpeg -threads 1 -f null (goal <= 1.05x its time);
//   3. a folder of videos on all cores vs extract_mvs one after another (goal >= 3.5x);
//   4. peak RSS of a 10x longer video vs the short one (goal within 10%);
//   5. `mvclass extract` writing CSV and JSON text, whole processes, vs extract_mvs's CSV on a real
//      clip with ~450k vectors (goal <= 1.0x its time).
// Run: npm run bench:extract  (prints a table of ratios; --quick for a smaller run, --text for part 5 only)

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeVideo, extractMotion } from '../src/index.js';
import { CSV_HEADER, csvText } from '../src/export/csv.js';
import { buildExtractMvs } from './oracle.js';
import { medianSeconds } from './support.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CACHE = path.join(ROOT, '.cache', 'bench');
const quick = process.argv.includes('--quick');
const textOnly = process.argv.includes('--text');
const REPEAT = quick ? 1 : 3;

function sh(cmd: string, args: string[], stdoutFile?: string): void {
  const r = spawnSync('bash', ['-c', `"$0" "$@" ${stdoutFile ? '> "$OUTFILE"' : '> /dev/null'} 2>/dev/null`, cmd, ...args], {
    env: { ...process.env, OUTFILE: stdoutFile ?? '' },
    stdio: 'inherit',
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status})`);
}

function clip(name: string, size: string, seconds: number): string {
  const file = path.join(CACHE, `${name}.mp4`);
  if (!existsSync(file)) {
    const temp = `${file}.tmp.mp4`;
    // A scrolling test pattern: motion everywhere, B-frames as x264 chooses them by default.
    sh('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=s=${size}:r=25,scroll=h=0.002:v=0.001`, '-t', String(seconds), '-c:v', 'libx264', '-preset', 'fast', temp]);
    renameSync(temp, file);
  }
  return file;
}

/** balle-jbart.mp4 (python3-mecavideo, 720x576 H.264 with B-frames), as the tests fetch it. */
function realClip(): string | undefined {
  const manifest = path.join(ROOT, '.cache', 'test', 'fixtures.json');
  if (!existsSync(manifest)) return undefined;
  const file = (JSON.parse(readFileSync(manifest, 'utf8')) as { real: Record<string, string> }).real.balle;
  return file && existsSync(file) ? file : undefined;
}

const time = (work: () => unknown | Promise<unknown>): Promise<number> => medianSeconds(REPEAT, work);

async function drainVectors(file: string): Promise<number> {
  let n = 0;
  for await (const batch of decodeVideo(file, { vectors: true })) n += batch.vectors!.length;
  return n;
}

async function mvclassCsv(file: string): Promise<string> {
  let text = CSV_HEADER;
  for await (const batch of decodeVideo(file, { vectors: true })) text += (await csvText(batch)).toString('latin1');
  return text;
}

/** One whole process with its stdout in a file: wall seconds and its user + system CPU seconds
 * (bash's `times` after it ran: the children's line). */
function timedProcess(cmd: string, args: string[], stdoutFile: string): { wall: number; cpu: number } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('bash', ['-c', '"$0" "$@" > "$OUTFILE" 2>/dev/null || exit $?; times', cmd, ...args], {
    env: { ...process.env, OUTFILE: stdoutFile },
    encoding: 'utf8',
  });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status})`);
  const children = r.stdout.trim().split('\n').at(-1)!.match(/(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/);
  if (!children) throw new Error(`cannot read the CPU times of ${cmd}: ${r.stdout}`);
  const [, um, us, sm, ss] = children.map(Number) as [number, number, number, number, number];
  return { wall, cpu: um * 60 + us + sm * 60 + ss };
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function row(cells: Array<string | number>): string {
  return '| ' + cells.map((c) => (typeof c === 'number' ? c.toFixed(3) : c)).join(' | ') + ' |';
}

/** `mvclass extract` writing CSV and JSON text vs extract_mvs, as users run them. */
function textBench(oracle: string, scratch: string): void {
  // Text output as users run it: whole processes (Node's start-up included) on real footage,
  // run in turn (extract_mvs, CSV, JSON, extract_mvs, ...) so that a change in the machine's load
  // reaches all three; each ratio is the median of the rounds' own ratios.
  const real = realClip();
  if (real) {
    const out = (name: string) => path.join(scratch, name);
    const cli = (format: string) => timedProcess(process.execPath, [path.join(ROOT, 'bin', 'mvclass.js'), 'extract', real, '-f', format], out(`text.${format}`));
    const rounds: Array<Record<'oracle' | 'csv' | 'json', { wall: number; cpu: number }>> = [];
    for (let i = 0; i < (quick ? 3 : 9); i++) {
      rounds.push({ oracle: timedProcess(oracle, [real], out('oracle-real.csv')), csv: cli('csv'), json: cli('json') });
    }
    const oracleText = readFileSync(out('oracle-real.csv'), 'latin1');
    const same = oracleText === readFileSync(out('text.csv'), 'latin1');
    const doc = JSON.parse(readFileSync(out('text.json'), 'utf8')) as { frames: Array<{ vectors: unknown[] }> };
    const jsonRows = doc.frames.reduce((n, frame) => n + frame.vectors.length, 0);
    const csvRowCount = oracleText.split('\n').length - 2;
    const figure = (key: 'oracle' | 'csv' | 'json', what: 'wall' | 'cpu') => median(rounds.map((r) => r[key][what]));
    const ratio = (key: 'csv' | 'json', what: 'wall' | 'cpu') => median(rounds.map((r) => r[key][what] / r.oracle[what]));
    console.log(`\ntext on ${path.basename(real)} (real footage, ${csvRowCount} rows), whole processes, median of ${rounds.length} rounds; load ${os.loadavg()[0]!.toFixed(2)}:`);
    console.log(row(['writer', 'wall s', 'CPU s (user + sys)', 'wall vs extract_mvs', 'CPU vs extract_mvs', 'check']));
    console.log(row(['---', '---', '---', '---', '---', '---']));
    console.log(row(['extract_mvs CSV', figure('oracle', 'wall'), figure('oracle', 'cpu'), '1', '1', '']));
    console.log(row(['mvclass extract -f csv', figure('csv', 'wall'), figure('csv', 'cpu'), `${ratio('csv', 'wall').toFixed(2)}x`, `${ratio('csv', 'cpu').toFixed(2)}x`, `identical: ${same ? 'yes' : 'NO'}`]));
    console.log(row(['mvclass extract -f json', figure('json', 'wall'), figure('json', 'cpu'), `${ratio('json', 'wall').toFixed(2)}x`, `${ratio('json', 'cpu').toFixed(2)}x`, `rows: ${jsonRows === csvRowCount ? 'same' : `${jsonRows}, NOT ${csvRowCount}`}`]));
    console.log('goal: CSV and JSON <= 1.0x extract_mvs, wall and CPU');
    if (!same || jsonRows !== csvRowCount) process.exitCode = 1;
  } else {
    console.log('\ntext output: no real clip (run npm test once: it fetches Debian\'s clips into .cache/test)');
  }
}

async function main(): Promise<void> {
  mkdirSync(CACHE, { recursive: true });
  const oracle = buildExtractMvs(CACHE);
  const scratch = path.join(os.tmpdir(), `mvclass-bench-${process.pid}`);
  mkdirSync(scratch, { recursive: true });
  if (textOnly) {
    textBench(oracle, scratch);
    rmSync(scratch, { recursive: true, force: true });
    return;
  }
  const files: Array<[string, string]> = [
    ['320x240', clip('320x240', '320x240', quick ? 4 : 10)],
    ['1280x720', clip('1280x720', '1280x720', quick ? 2 : 5)],
    ['1920x1080', clip('1920x1080', '1920x1080', quick ? 2 : 4)],
  ];

  console.log(`mvclass bench/extract — ${os.cpus().length} cores, median of ${REPEAT}; times in seconds\n`);
  console.log('in-process: the library API in this process; CLI: `mvclass extract -f npy` as a new process (Node start-up included)\n');
  console.log(row(['file', 'extract_mvs CSV', 'ffmpeg -threads 1 null', 'mvclass vectors', 'mvclass npy (grid 8)', 'mvclass CLI npy', 'speed-up vs extract_mvs', 'vectors vs decode', 'identical']));
  console.log(row(['---', '---', '---', '---', '---', '---', '---', '---', '---']));
  for (const [label, file] of files) {
    const oracleCsv = path.join(scratch, 'oracle.csv');
    sh(oracle, [file], oracleCsv);
    const identical = readFileSync(oracleCsv, 'utf8') === (await mvclassCsv(file));
    const tOracle = await time(() => sh(oracle, [file], oracleCsv));
    const tDecode = await time(() => sh('ffmpeg', ['-v', 'error', '-threads', '1', '-i', file, '-f', 'null', '-']));
    const tVectors = await time(() => drainVectors(file));
    const tNpy = await time(() => extractMotion(file, { format: 'npy', out: path.join(scratch, 'bundle'), keyFrames: false }));
    const cliArgs = [path.join(ROOT, 'bin', 'mvclass.js'), 'extract', file, '-f', 'npy', '-o', path.join(scratch, 'cli'), '--no-keyframes'];
    const tCli = await time(() => sh(process.execPath, cliArgs));
    console.log(
      row([
        label,
        tOracle,
        tDecode,
        tVectors,
        tNpy,
        tCli,
        `${(tOracle / tNpy).toFixed(2)}x npy, ${(tOracle / tVectors).toFixed(2)}x vectors, ${(tOracle / tCli).toFixed(2)}x CLI`,
        `${(tVectors / tDecode).toFixed(2)}x`,
        identical ? 'yes' : 'NO',
      ]),
    );
    if (!identical) process.exitCode = 1;
  }

  // A folder: every file decoded in parallel (the libuv pool) vs extract_mvs one by one.
  const folder = Array.from({ length: quick ? 4 : 8 }, (_, i) => clip(`folder-${i % 4}`, '320x240', quick ? 3 : 6));
  const tFolderOracle = await time(() => folder.forEach((file) => sh(oracle, [file], path.join(scratch, 'o.csv'))));
  const tFolder = await time(() =>
    Promise.all(folder.map((file, i) => extractMotion(file, { format: 'npy', out: path.join(scratch, `b${i}`), keyFrames: false }))),
  );
  console.log(`\nfolder of ${folder.length} 320x240 clips: extract_mvs sequential ${tFolderOracle.toFixed(3)} s, mvclass parallel ${tFolder.toFixed(3)} s -> ${(tFolderOracle / tFolder).toFixed(2)}x faster (goal >= 3.5x)`);

  textBench(oracle, scratch);

  // Memory: a 10x longer video must not need more memory. Decoded batches are external memory
  // that V8 collects once it passes its threshold (~64 MB), so the first step up in length shows
  // that threshold being crossed; the step after shows whether anything grows with length.
  const short = clip('rss-short', '640x480', 4);
  const long = clip('rss-long', '640x480', 40);
  const longer = clip('rss-longer', '640x480', 400);
  const child = path.join(ROOT, 'dist', 'bench', 'rss-child.js');
  const rss = (file: string) => {
    const r = spawnSync(process.execPath, [child, file, path.join(scratch, 'rss')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`rss child failed: ${r.stderr}`);
    return Number(r.stdout.trim());
  };
  const [a, b, c] = [rss(short), rss(long), rss(longer)];
  console.log(`peak RSS (npy bundle): 4 s ${(a / 1024).toFixed(1)} MB, 40 s ${(b / 1024).toFixed(1)} MB, 400 s ${(c / 1024).toFixed(1)} MB`);
  console.log(`  40 s vs 4 s: ${(b / a).toFixed(3)}x (V8's external-memory threshold crossed once); 400 s vs 40 s: ${(c / b).toFixed(3)}x (goal <= 1.10x)`);
  rmSync(scratch, { recursive: true, force: true });
}

await main();
