import path from 'node:path';
import { Command, Option } from 'commander';
import { VIDEO_CODECS, type VideoCodec } from '../codec/encode.js';
import { MvclassError } from '../util/errors.js';
import { progressBar } from '../util/progress.js';
import { integerInRange, nonNegativeInteger, oneOf, positiveInteger } from '../util/validate.js';
import { printJson, warn } from './output.js';
import { promises as fs } from 'node:fs';
import { PAPER_PROFILE } from '../ingest/profile.js';

export function parseQpList(value: unknown): number[] {
  if (typeof value !== 'string' || !/^\s*\d+(\s*,\s*\d+)*\s*$/.test(value)) {
    throw new MvclassError(`Expected a comma-separated list of QPs for qp but received ${JSON.stringify(value)}`);
  }
  return value.split(',').map((q) => integerInRange(q.trim(), 'qp', 0, 51));
}

export function ratesCommand(): Command {
  return new Command('rates')
    .description('R_orig, R_cropped and R_motion per video and averaged (the paper, Tables I and II)')
    .argument('<videos...>', 'video files or folders')
    .option('--qp <list>', 'encode each video at these QPs first (e.g. 0,30,40,51); without it, take the videos as they are')
    .addOption(new Option('--codec <codec>', 'h264 or hevc (with --qp)').default('h264'))
    .option('--size <WxH>', 'encoding size (with --qp)', PAPER_PROFILE.size)
    .option('--fps <n>', 'encoding frame rate (with --qp)', String(PAPER_PROFILE.fps))
    .option('-o, --out <dir>', 'where rates.csv, rates.json and rates.md go', 'mvclass-rates')
    .option('--keep-streams', 'keep the encoded and cropped streams in <out>/streams')
    .option('--threads <n>', 'encoder threads (1: the same bits on every machine, as prepare encodes; 0: automatic, faster)', '1')
    .option('--json', 'print the JSON result on stdout instead of the table')
    .action(async (inputs: string[], opts: Record<string, string | boolean | undefined>) => {
      const { listVideos, measureRates, ratesReport, writeRatesReport } = await import('../app/rates.js'); // loaded on use
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

      const report = ratesReport(result, { codec, qps: qps ?? null, size: String(opts.size), fps });
      await writeRatesReport(out, report);
      const { markdown, json } = report;
      if (opts.json) printJson(json);
      else process.stdout.write(markdown + `\nwrote ${path.join(out, 'rates.md')}, rates.csv, rates.json\n`);
      if (result.rows.length === 0) process.exitCode = 1;
    });
}
