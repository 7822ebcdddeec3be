import path from 'node:path';
import { Command, Option } from 'commander';
import { VIDEO_CODECS, type VideoCodec } from '../codec/encode.js';
import { listVideos, measureRates, type VideoRatesRow } from '../rate/measure.js';
import { meanRates, PAPER_RATES } from '../rate/rates.js';
import { csvTable, markdownTable, type Cell } from '../report/table.js';
import { writeFileAtomically } from '../util/atomic.js';
import { MvclassError } from '../util/errors.js';
import { progressBar } from '../util/progress.js';
import { integerInRange, nonNegativeInteger, oneOf, positiveInteger } from '../util/validate.js';
import { printJson, warn } from './output.js';
import { promises as fs } from 'node:fs';

const HEADER = ['video', 'QP', 'R_orig', 'R_cropped', 'R_cropped (encoder)', 'R_motion', '% of R_orig', '% of R_cropped'];

type RateCells = Record<'rOrig' | 'rCropped' | 'rCroppedEncoder' | 'rMotion' | 'motionPctOrig' | 'motionPctCropped', number | null>;

function rowCells(label: string, qp: Cell, r: RateCells): Cell[] {
  return [label, qp, r.rOrig, r.rCropped, r.rCroppedEncoder, r.rMotion, r.motionPctOrig, r.motionPctCropped];
}

export function parseQpList(value: unknown): number[] {
  if (typeof value !== 'string' || !/^\s*\d+(\s*,\s*\d+)*\s*$/.test(value)) {
    throw new MvclassError(`Expected a comma-separated list of QPs for qp but received ${JSON.stringify(value)}`);
  }
  return value.split(',').map((q) => integerInRange(q.trim(), 'qp', 0, 51));
}

export function ratesCommand(): Command {
  return new Command('rates')
    .description('R_orig, R_cropped and R_motion per video and averaged (seed 004, Tables I and II)')
    .argument('<videos...>', 'video files or folders')
    .option('--qp <list>', 'encode each video at these QPs first (e.g. 0,30,40,51); without it, take the videos as they are')
    .addOption(new Option('--codec <codec>', 'h264 or hevc (with --qp)').default('h264'))
    .option('--size <WxH>', 'encoding size (with --qp)', '320x240')
    .option('--fps <n>', 'encoding frame rate (with --qp)', '25')
    .option('-o, --out <dir>', 'where rates.csv, rates.json and rates.md go', 'mvclass-rates')
    .option('--keep-streams', 'keep the encoded and cropped streams in <out>/streams')
    .option('--threads <n>', 'encoder threads (0: automatic)', '0')
    .option('--json', 'print the JSON result on stdout instead of the table')
    .action(async (inputs: string[], opts: Record<string, string | boolean | undefined>) => {
      const codec = oneOf(opts.codec, 'codec', VIDEO_CODECS) as VideoCodec;
      const qps = opts.qp === undefined ? undefined : parseQpList(opts.qp);
      const fps = positiveInteger(opts.fps, 'fps');
      const threads = nonNegativeInteger(opts.threads, 'threads');
      const out = String(opts.out);
      const videos = await listVideos(inputs);
      if (videos.length === 0) throw new MvclassError(`${inputs.join(', ')}: no video files found`);
      await fs.mkdir(out, { recursive: true });
      const bar = progressBar('rates', videos.length * (qps?.length ?? 1), 'encodes');
      const result = await measureRates(videos, {
        codec,
        ...(qps ? { qps } : {}),
        size: String(opts.size),
        fps,
        threads,
        ...(opts.keepStreams ? { streamsDir: path.join(out, 'streams') } : {}),
        onProgress: (done) => bar.update(done),
        onWarning: warn,
      }).finally(() => bar.stop());
      for (const f of result.failed) warn(`${f.path}: ${f.reason}`);

      const groups = new Map<number | null, VideoRatesRow[]>();
      for (const row of result.rows) groups.set(row.qp, [...(groups.get(row.qp) ?? []), row]);
      const averages = [...groups].map(([qp, rows]) => ({ qp, videos: rows.length, ...meanRates(rows) }));
      const table: Cell[][] = result.rows.map((r) => rowCells(path.basename(r.video), r.qp ?? 'as is', r));
      for (const a of averages) {
        table.push(rowCells(`**mean of ${a.videos}**`, a.qp ?? 'as is', a));
        const paper = a.qp !== null ? PAPER_RATES[codec][a.qp] : undefined;
        if (paper) {
          table.push(
            rowCells('paper (UCF-101 mean)', a.qp, {
              rOrig: paper.rOrig,
              rCropped: paper.rCropped,
              rCroppedEncoder: null,
              rMotion: paper.rMotion,
              motionPctOrig: (100 * paper.rMotion) / paper.rOrig,
              motionPctCropped: (100 * paper.rMotion) / paper.rCropped,
            }),
          );
        }
      }
      const markdown = `Rates in kbps (${codec}${qps ? `, encoded at ${opts.size}, ${fps} fps, one IDR then P, search range 16` : ', streams as they are'}); see docs/rates.md\n\n${markdownTable(HEADER, table)}`;
      const json = { codec, qps: qps ?? null, videos: result.rows, averages, failed: result.failed };
      await writeFileAtomically(path.join(out, 'rates.md'), markdown);
      await writeFileAtomically(path.join(out, 'rates.csv'), csvTable(['video', ...HEADER.slice(1)], result.rows.map((r) => rowCells(r.video, r.qp, r))));
      await writeFileAtomically(path.join(out, 'rates.json'), JSON.stringify(json, null, 1) + '\n');
      if (opts.json) printJson(json);
      else process.stdout.write(markdown + `\nwrote ${path.join(out, 'rates.md')}, rates.csv, rates.json\n`);
      if (result.rows.length === 0) process.exitCode = 1;
    });
}
