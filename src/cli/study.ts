// mvclass study repeats <spec> -o <dir>: a network trained several times per condition, every run
// tested on every condition (app/repeats.ts; the spec's format: src/config/study.ts).
// mvclass study transcode <dataset> -o <dir>: a dataset re-encoded at CRF (or QP) x GOP, size and
// quality per cell (app/transcode-study.ts); with --models, the top-1 per cell of networks trained
// on the originals (app/transcode-accuracy.ts); with --jpeg, also every frame as a JPEG at each
// FFmpeg q-scale (seed 003's JPEG study), the pixel networks alone tested there.

import { Command } from 'commander';
import { jpegQuality } from '../codec/encode.js';
import { pictureRegion } from '../codec/region.js';
import { parseDevice } from '../nn/device.js';
import { queueUrl } from '../queue/queue.js';
import { MODELS } from '../run/format.js';
import { UsageError } from '../util/errors.js';
import { deviceOption, threadsOption, threadsValue } from './device.js';
import { infinityAsText } from '../util/json.js';
import { integerInRange, nonEmptyString, nonNegativeInteger, oneOf, positiveInteger, positiveNumber } from '../util/validate.js';
import { UNLISTED_CHOICES } from '../config/regions.js';
import { fixed, printJson, warn } from './output.js';
import { progressBar, type Progress } from '../util/progress.js';
import type { TranscodeStudyResult } from '../app/transcode-study.js';

function repeatsCommand(): Command {
  return new Command('repeats')
    .description('train one network `repeats` times per condition (seed + k), test every run on every condition; min/mean/max, the train x test matrix, bytes and saving, report.html')
    .argument('<spec>', 'the study spec (JSON or YAML): model, repeats, conditions (each a name and data: <cache> or dataset: <dataset> with prepare settings)')
    .requiredOption('-o, --out <dir>', 'where caches, runs, scores, repeats.json and report.html go (a rerun reuses what is complete)')
    .addOption(threadsOption())
    .addOption(deviceOption())
    .option('--json', 'print the conditions and the matrix as JSON')
    .exitOverride()
    .action(async (spec: string, opts: Record<string, unknown>) => {
      const threads = threadsValue(opts.threads);
      const device = parseDevice(opts.device, 'device');
      // Loaded here: the workflow brings libtorch and the plotting libraries, which other commands never need.
      const { runRepeats } = await import('../app/repeats.js');
      const out = String(opts.out);
      const result = await runRepeats(spec, out, {
        threads,
        device,
        onStage: (stage, state, seconds) => {
          if (state === 'done') process.stderr.write(`mvclass: ${stage}: ${fixed(seconds, 1)} s\n`);
          else if (state === 'skipped') process.stderr.write(`mvclass: ${stage}: reused\n`);
        },
        onWarning: warn,
      });
      if (opts.json) return printJson(result);
      for (const c of result.conditions) {
        process.stdout.write(`${c.name}: top-1 ${fixed(100 * c.mean, 1)}% (${fixed(100 * c.min, 1)}-${fixed(100 * c.max, 1)}) over ${c.runs.length} runs, ${c.bytes} bytes, saving ${fixed(100 * c.saving, 1)}%\n`);
      }
      process.stdout.write(`${out}/report.html\n`);
    });
}

/** What the MV-vs-pixel comparison showed, a line per family and GOP (for the study's and the demo's summaries). */
export function comparisonLines(result: TranscodeStudyResult): string[] {
  const c = result.comparison;
  if (!c) return [];
  const rate = c.rate.toUpperCase();
  const levels = [...new Set(result.cells.map((x) => (x.crf ?? x.qp)!))].sort((a, b) => a - b);
  return c.families.map((f) => {
    const who = `${f.family === 'mv' ? 'MV' : 'pixel'} (${f.models.join(', ')}), GOP ${f.gop}:`;
    if (f.level === null) return `${who} within ${c.points} point of the originals up to ${rate} ${levels[levels.length - 1]}`;
    return `${who} first loses more than ${c.points} point at ${rate} ${f.level} (${f.model}), ${f.bytes} bytes, ${fixed(f.kbps!, 1)} kbps, ${fixed(100 * f.relativeSize!, 1)}% of the original size`;
  });
}

/** "20,40" -> [20, 40], each checked by `check`. */
function list(value: unknown, check: (item: string) => number): number[] {
  return String(value)
    .split(',')
    .map((item) => check(item.trim()));
}

function transcodeCommand(): Command {
  return new Command('transcode')
    .description('re-encode every video of a dataset at each CRF (or QP) x GOP (x264, preset medium), short side capped; per cell: bytes, kbps, PSNR, SSIM, luma MAE and RMSE against the original; with --models, the top-1 of networks trained on the originals on each cell\'s own streams; transcode.json')
    .argument('<dataset>', 'a dataset (a folder per class, UCF101, HMDB51, a Kinetics or manifest CSV)')
    .requiredOption('-o, --out <dir>', 'where transcoded/<cell>/, quality/<cell>/ and transcode.json go (a rerun reuses what is complete)')
    .option('--crf <list>', 'constant rate factors, 0-51 (default 0,10,20,30,40,50)')
    .option('--qp <list>', 'constant QPs, 0-51, instead of CRFs')
    .option('--gop <list>', 'frames between IDR frames, 1 all intra, 0 one IDR (default 1,2,5,10,12)')
    .option('--jpeg <list>', "also every frame as a JPEG at these FFmpeg mjpeg q-scales (-q:v), 2 best to 31 worst (seed 003's -q 10,17,40 is 10,17,31); with --models, the pixel models only (no motion vectors)")
    .option('--roi <x,y,w,h>', 'decode, keep this region of every picture and re-encode it (even numbers), compared with the same region of the original; not the bitstream crop of mvclass crop')
    .option('--roi-file <file>', 'a region per video instead: CSV lines path,x,y,w,h, paths relative to the dataset folder (README: Regions of interest)')
    .option('--roi-unlisted <what>', 'with --roi-file: the videos it does not list are refused (refuse, default) or keep their whole picture (full)')
    .option('--short-side <S>', 'the largest short side of the re-encoded videos, even (default 360; never scaled up)')
    .option('--jobs <n>', 'videos encoded, compared or (with --models) prepared at once (default: cores)')
    .option('--queue <url>', 'hand the (cell, video) transcodes to the workers of this job queue (redis://host:6379[/db]; mvclass worker) instead; the output folder must be on a filesystem they all mount')
    .option('--attempts <n>', 'with --queue: tries per (cell, video) before the video is listed as failed (default 3)')
    .option('--models <list>', `also train these networks on the originals and test them on every cell (top-1 per cell): any of ${MODELS.join(', ')}`)
    .option('--iterations <n>', 'with --models: training iterations (default 300, the cpu preset)')
    .option('--batch <n>', 'with --models: batch size (default 16)')
    .option('--optimizer <name>', 'with --models: sgd (default, the cpu preset), adam or adamw')
    .option('--lr <x>', "with --models: learning rate (default 0.01, the cpu preset's, with sgd; the optimiser's own default with adam or adamw)")
    .option('--frames <n>', "with --models: the motion and clip networks' frames (default: the cpu preset's per model)")
    .option('--size <n>', "with --models: the networks' input size (default: the cpu preset's per model)")
    .option('--width <x>', "with --models: the networks' width multiplier (default: the cpu preset's per model)")
    .option('--fc <n>', "with --models: the networks' fully connected width (default: the cpu preset's per model)")
    .option('--views <TxC>', 'with --models: test views, <temporal>x<crops> (default 3x10, the cpu preset)')
    .option('--seed <n>', 'with --models: the training seed (default 1)')
    .option('--train-on <list>', 'with --models: also train and test the networks on the cells at these CRFs (or QPs), at GOP 12 or the largest GOP of --gop')
    .addOption(threadsOption())
    .addOption(deviceOption())
    .option('--json', 'print transcode.json')
    .exitOverride()
    .action(async (dataset: string, opts: Record<string, unknown>) => {
      if (opts.crf !== undefined && opts.qp !== undefined) throw new UsageError('Give either --qp or --crf, not both');
      const training = ['iterations', 'batch', 'optimizer', 'lr', 'frames', 'size', 'width', 'fc', 'views', 'seed', 'trainOn'].filter((k) => opts[k] !== undefined);
      if (opts.models === undefined && training.length > 0) throw new UsageError(`--${training[0] === 'trainOn' ? 'train-on' : training[0]} goes with --models`);
      const threads = threadsValue(opts.threads);
      const device = parseDevice(opts.device, 'device');
      const queue = opts.queue === undefined ? undefined : queueUrl(opts.queue);
      if (opts.attempts !== undefined && queue === undefined) throw new UsageError('--attempts goes with --queue');
      const attempts = opts.attempts === undefined ? undefined : positiveInteger(opts.attempts, 'attempts');
      const accuracy =
        opts.models === undefined
          ? undefined
          : {
              models: String(opts.models)
                .split(',')
                .map((m) => m.trim()),
              ...(opts.iterations !== undefined ? { iterations: positiveInteger(opts.iterations, 'iterations') } : {}),
              ...(opts.batch !== undefined ? { batch: positiveInteger(opts.batch, 'batch') } : {}),
              ...(opts.optimizer !== undefined ? { optimizer: String(opts.optimizer) } : {}),
              ...(opts.lr !== undefined ? { lr: positiveNumber(opts.lr, 'lr') } : {}),
              ...(opts.frames !== undefined ? { frames: positiveInteger(opts.frames, 'frames') } : {}),
              ...(opts.size !== undefined ? { size: positiveInteger(opts.size, 'size') } : {}),
              ...(opts.width !== undefined ? { width: positiveNumber(opts.width, 'width') } : {}),
              ...(opts.fc !== undefined ? { fc: positiveInteger(opts.fc, 'fc') } : {}),
              ...(opts.views !== undefined ? { views: String(opts.views) } : {}),
              ...(opts.seed !== undefined ? { seed: nonNegativeInteger(opts.seed, 'seed') } : {}),
              ...(threads !== undefined ? { threads } : {}),
              ...(device !== undefined ? { device } : {}),
              onStage: (stage: string, state: 'done' | 'skipped', seconds: number) => {
                if (!process.stderr.isTTY) return;
                process.stderr.write(state === 'done' ? `mvclass: ${stage}: ${fixed(seconds, 1)} s\n` : `mvclass: ${stage}: reused\n`);
              },
            };
      const { transcodeStudy } = await import('../app/transcode-study.js');
      const out = String(opts.out);
      // One bar over every (cell, video), local or on the queue's workers (a terminal only: a log or a pipe gets the result alone).
      let bar: Progress | undefined;
      const result = await transcodeStudy(dataset, out, {
        ...(opts.crf !== undefined ? { crf: list(opts.crf, (v) => integerInRange(v, 'crf', 0, 51)) } : {}),
        ...(opts.qp !== undefined ? { qp: list(opts.qp, (v) => integerInRange(v, 'qp', 0, 51)) } : {}),
        ...(opts.gop !== undefined ? { gop: list(opts.gop, (v) => nonNegativeInteger(v, 'gop')) } : {}),
        ...(opts.jpeg !== undefined ? { jpeg: list(opts.jpeg, (v) => jpegQuality(v, 'jpeg')) } : {}),
        ...(opts.shortSide !== undefined ? { shortSide: positiveInteger(opts.shortSide, 'short-side') } : {}),
        ...(opts.roi !== undefined ? { roi: pictureRegion(opts.roi, 'roi') } : {}),
        ...(opts.roiFile !== undefined ? { roiFile: nonEmptyString(opts.roiFile, 'roi-file') } : {}),
        ...(opts.roiUnlisted !== undefined ? { roiUnlisted: oneOf(opts.roiUnlisted, 'roi-unlisted', UNLISTED_CHOICES) } : {}),
        ...(opts.jobs !== undefined ? { jobs: positiveInteger(opts.jobs, 'jobs') } : {}),
        ...(accuracy ? { accuracy } : {}),
        ...(queue !== undefined ? { queue, ...(attempts !== undefined ? { attempts } : {}) } : {}),
        ...(opts.trainOn !== undefined ? { trainOn: list(opts.trainOn, (v) => integerInRange(v, 'train-on', 0, 51)) } : {}),
        onWarning: warn,
        onProgress: (done: number, total: number) => {
          bar ??= progressBar('transcode', total, 'files');
          bar.update(done);
          if (done === total) bar.stop();
        },
      }).finally(() => bar?.stop());
      if (opts.json) {
        process.stdout.write(JSON.stringify(result, infinityAsText, 2) + '\n');
        return;
      }
      const o = result.original;
      const top1 = (a: Record<string, number> | undefined) => (a ? `, top-1 ${Object.entries(a).map(([m, v]) => `${m} ${fixed(100 * v, 1)}%`).join(' ')}` : '');
      process.stdout.write(`original: ${o.videos} videos, ${o.bytes} bytes, ${fixed(o.kbps, 1)} kbps${top1(o.accuracy)}\n`);
      for (const c of result.cells) {
        const rate = c.crf !== undefined ? `crf ${c.crf}` : `qp ${c.qp}`;
        process.stdout.write(`${rate} gop ${c.gop}: ${c.bytes} bytes, ${fixed(c.kbps, 1)} kbps, PSNR ${fixed(c.psnr, 2)} dB, SSIM ${fixed(c.ssim, 4)}, MAE ${fixed(c.mae, 2)}, RMSE ${fixed(c.rmse, 2)}${top1(c.accuracy)}\n`);
      }
      for (const c of result.jpeg ?? []) {
        process.stdout.write(`jpeg q ${c.q}: ${c.bytes} bytes, ${fixed(c.kbps, 1)} kbps, PSNR ${fixed(c.psnr, 2)} dB, SSIM ${fixed(c.ssim, 4)}, MAE ${fixed(c.mae, 2)}, RMSE ${fixed(c.rmse, 2)}${top1(c.accuracy)}\n`);
      }
      for (const f of result.failed) process.stdout.write(`failed: ${f.path}: ${f.reason}\n`);
      for (const line of comparisonLines(result)) process.stdout.write(`${line}\n`);
      for (const t of result.trainOn ?? []) {
        process.stdout.write(`trained and tested on ${t.crf !== undefined ? `crf ${t.crf}` : `qp ${t.qp}`} gop ${t.gop}: ${t.bytes} bytes, ${fixed(t.kbps, 1)} kbps${top1(t.accuracy)}\n`);
      }
      process.stdout.write(`${out}/transcode.json\n`);
      if (accuracy) process.stdout.write(`${out}/accuracy.md\n`);
      process.stdout.write(`${out}/report.html\n`);
    });
}

export function studyCommand(): Command {
  return new Command('study')
    .description('studies over many training runs or encodings')
    .addCommand(repeatsCommand())
    .addCommand(transcodeCommand())
    .exitOverride();
}
