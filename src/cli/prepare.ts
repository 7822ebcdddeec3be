import path from 'node:path';
import { Command, Option } from 'commander';
import { clipFrames, clipShortSide } from '../codec/clips.js';
import { VIDEO_CODECS, type VideoCodec } from '../codec/encode.js';
import { pictureRegion } from '../codec/region.js';
import { MvclassError } from '../util/errors.js';
import { progressBar } from '../util/progress.js';
import { fraction, integerInRange, nonEmptyString, oneOf, positiveInteger } from '../util/validate.js';
import { UNLISTED_CHOICES } from '../config/regions.js';
import { printJson, warn, warnSome } from './output.js';
import { parseQpList } from './rates.js';
import { addSettingsOptions, printConfig, resolveSettings, sectionSettings } from './settings.js';
import { PAPER_PROFILE } from '../ingest/profile.js';
import { queueUrl } from '../queue/queue.js';

export function prepareCommand(): Command {
  const command = new Command('prepare')
    .description('turn a dataset into a cache of 8x8 motion grids, key frames, decoded-frame clips (--rgb), frame bits and rates')
    .argument('<dataset>', 'a folder (UCF-101, HMDB-51, or one folder per class), a Kinetics CSV, or a manifest CSV')
    .requiredOption('-o, --out <cache>', 'cache folder (with several --qp values: one sub-folder qpNN per QP)')
    .addOption(new Option('--codec <codec>', 'h264 or hevc').default('h264'))
    .option('--qp <list>', 'fixed QP, or several comma-separated (default 30)')
    .option('--crf <n>', 'constant rate factor instead of --qp')
    .option('--as-is', 'keep each input bitstream as it is (no re-encoding)')
    .option('--roi <x,y,w,h>', 'decode, keep this region of every picture and re-encode it (even numbers; --size defaults to w x h); not the bitstream crop of mvclass crop')
    .option('--roi-file <file>', 'a region per video: CSV lines path,x,y,w,h, paths relative to the dataset folder (--size defaults to the regions\' when they share one); not with --roi')
    .option('--roi-unlisted <what>', 'with --roi-file: the videos it does not list are refused (refuse, default) or keep their whole picture (full)')
    .option('--size <WxH>', 'encoding size', PAPER_PROFILE.size)
    .option('--fps <n>', 'encoding frame rate', String(PAPER_PROFILE.fps))
    .option('--key-size <WxH>', 'size of the stored key frame (the spatial network input)', '112x112')
    .option('--rgb <T>', 'also store T decoded frames per video, spread evenly over it, as uint8 RGB (default: none)')
    .option('--short-side <S>', 'with --rgb: the frames\' short side in pixels, even (default 128)')
    .option('--split <n>', 'official split to use (UCF-101, HMDB-51)', '1')
    .option('--seed <n>', 'seed of the stratified split for datasets without one', '1')
    .option('--val-fraction <x>', 'hold out this share of each class\'s training videos as a validation split (for mcnn fit)')
    .option('--jobs <n>', 'videos prepared at once (default: cores + 1)')
    .option('--queue <url>', 'hand the videos to the workers of this job queue (redis://host:6379[/db]; mvclass worker) instead; the cache folder must be on a filesystem they all mount')
    .option('--attempts <n>', 'with --queue: tries per video before it is listed as failed (default 3)')
    .option('--json', 'print a JSON summary');
  return addSettingsOptions(command).action(async (spec: string, raw: Record<string, unknown>) => {
    const [{ prepareDatasetAtQps }, { openDataset }] = await Promise.all([import('../app/prepare.js'), import('../datasets/open.js')]); // loaded on use
    const resolved = await resolveSettings(command, raw, 'prepare');
    const opts = resolved.opts;
    if (raw.printConfig) return printConfig({ prepare: sectionSettings('prepare', opts) });
    if (opts.asIs && (opts.qp !== undefined || opts.crf !== undefined)) throw new MvclassError('--as-is keeps the input as it is: drop --qp and --crf');
    const codec = oneOf(opts.codec, 'codec', VIDEO_CODECS) as VideoCodec;
    const qps = opts.qp === undefined ? undefined : parseQpList(opts.qp);
    const queue = opts.queue === undefined ? undefined : queueUrl(opts.queue);
    const attempts = opts.attempts === undefined ? undefined : positiveInteger(opts.attempts, 'attempts');
    const dataset = await openDataset(spec, {
      split: integerInRange(opts.split, 'split', 1, 3) as 1 | 2 | 3,
      seed: positiveInteger(opts.seed, 'seed'),
      ...(opts.valFraction !== undefined ? { valFraction: fraction(opts.valFraction, 'val-fraction') } : {}),
    });
    warnSome(
      dataset.missing.map((m) => `${m.path}: ${m.reason}`),
      (n) => `${n} more missing videos (the cache's manifest.json lists every one under "failed")`,
    );
    // prepareDataset reports the missing videos again among its failures: they were warned about.
    const missing = new Set(dataset.missing.map((m) => m.path));
    let bar: ReturnType<typeof progressBar> | undefined;
    const summaries = await prepareDatasetAtQps(dataset, String(opts.out), qps, (qp) => {
      bar?.stop();
      const thisBar = progressBar(`prepare${qp !== undefined ? ` QP ${qp}` : ''}`, dataset.items.length, 'videos');
      bar = thisBar;
      return {
        codec,
        ...(opts.crf !== undefined ? { crf: integerInRange(opts.crf, 'crf', 0, 51) } : {}),
        asIs: opts.asIs === true,
        // With a region, the region's own size unless a size was given.
        ...((opts.roi === undefined && opts.roiFile === undefined) || resolved.given.has('size') ? { size: String(opts.size) } : {}),
        ...(opts.roi !== undefined ? { roi: pictureRegion(opts.roi, 'roi') } : {}),
        ...(opts.roiFile !== undefined ? { roiFile: nonEmptyString(opts.roiFile, 'roi-file') } : {}),
        ...(opts.roiUnlisted !== undefined ? { roiUnlisted: oneOf(opts.roiUnlisted, 'roi-unlisted', UNLISTED_CHOICES) } : {}),
        fps: positiveInteger(opts.fps, 'fps'),
        keySize: String(opts.keySize),
        ...(opts.rgb !== undefined ? { rgb: clipFrames(opts.rgb, 'rgb') } : {}),
        ...(opts.shortSide !== undefined ? { shortSide: clipShortSide(opts.shortSide, 'short-side') } : {}),
        ...(opts.jobs !== undefined ? { jobs: positiveInteger(opts.jobs, 'jobs') } : {}),
        ...(queue !== undefined ? { queue, ...(attempts !== undefined ? { attempts } : {}) } : {}),
        onProgress: (done) => thisBar.update(done),
        onWarning: warn,
        onDone: (result) => {
          thisBar.stop();
          warnSome(
            result.failed.filter((f) => !missing.has(f.path)).map((f) => `${f.path}: ${f.reason}`),
            (n) => `${n} more videos that failed (listed under "failed" in ${path.join(result.out, 'manifest.json')})`,
          );
          if (!opts.json) {
            process.stdout.write(`${result.out}: ${result.videos} videos prepared${result.skipped ? ` (${result.skipped} from an earlier run)` : ''}, ${result.failed.length} failed\n`);
          }
        },
      };
    }).finally(() => bar?.stop());
    if (opts.json) {
      const failed = summaries.flatMap((s) => s.failed);
      printJson(summaries.length === 1 ? summaries[0] : { videos: summaries.reduce((n, s) => n + s.videos, 0), failed, out: String(opts.out), caches: summaries });
    }
    if (summaries.every((s) => s.videos === 0)) process.exitCode = 1;
  });
}
