import { Command, Option } from 'commander';
import { probe } from '../codec/probe.js';
import { EXTRACT_FORMATS, extractMotion, type ExtractFormat } from '../export/extract.js';
import { UsageError } from '../util/errors.js';
import { progressBar } from '../util/progress.js';
import { isStreamSource } from '../codec/input.js';
import { frameSize, keyValuePairs, oneOf, positiveInteger } from '../util/validate.js';
import { fixed, printJson, warn, warnSome } from './output.js';
import type { ExtractFolderOptions } from '../app/extract.js';
import { isDirectory } from '../datasets/files.js';
import { queueUrl } from '../queue/queue.js';

export function extractCommand(): Command {
  return new Command('extract')
    .description('motion vectors of a video as extract_mvs-style CSV, JSON, or an .npy bundle')
    .argument('<video>', 'a video with motion vectors (H.264, HEVC, MPEG-4 Part 2, H.263, MPEG-1/2, MS-MPEG-4, WMV1/2, FLV1…): a file, - for standard input, an http(s):// or rtsp(s):// URL, or a folder (every video under it, into the same tree under --out)')
    .option('--input-option <key=value...>', 'demuxer/protocol option, as ffmpeg -i takes it (e.g. rtsp_transport=tcp)')
    .addOption(new Option('-f, --format <format>', 'csv (default, to stdout without --out), json, or npy (a folder)').default('csv'))
    .option('-g, --grid <pixels>', 'block size of the motion grid (npy)', '8')
    .addOption(new Option('--units <units>', 'grid values in pixels (float32) or quarter-pel (int16)').default('pixels'))
    .option('-o, --out <path>', 'output file (csv, json) or folder (npy; default <video name>.mv)')
    .option('--no-keyframes', 'npy: leave out keyframes.npy')
    .option('--keyframe-size <WxH>', 'npy: key frame size (0 for one side keeps the aspect ratio)')
    .option('--jobs <n>', 'a folder: videos at once (default: cores + 1)')
    .option('--queue <url>', 'a folder: hand the videos to the workers of this job queue (redis://host:6379[/db]; mvclass worker) instead; --out must be on a filesystem they all mount')
    .option('--attempts <n>', 'with --queue: tries per video before it is listed as failed (default 3)')
    .option('--json', 'print a JSON summary on stdout')
    .action(async (video: string, opts: Record<string, unknown>) => {
      const format = oneOf(opts.format, 'format', EXTRACT_FORMATS) as ExtractFormat;
      const grid = positiveInteger(opts.grid, 'grid');
      const units = oneOf(opts.units, 'units', ['pixels', 'quarter-pel'] as const);
      const keySize = opts.keyframeSize === undefined ? { width: 0, height: 0 } : frameSize(opts.keyframeSize, 'keyframe-size', true);
      const out = opts.out as string | undefined;
      if (!isStreamSource(video) && video !== '-' && (await isDirectory(video))) {
        return extractFolderCommand(video, out, { format, grid, units, keyFrames: opts.keyframes !== false, keyFrameWidth: keySize.width, keyFrameHeight: keySize.height }, opts);
      }
      if (opts.queue !== undefined || opts.jobs !== undefined) throw new UsageError(`--${opts.queue !== undefined ? 'queue' : 'jobs'} spreads the videos of a folder: ${video} is one video`);
      if (opts.json && format !== 'npy' && out === undefined) {
        throw new UsageError(`--json prints a summary on stdout, where the ${format} would go: add --out <file>`);
      }
      const inputOptions = keyValuePairs(opts.inputOption, 'input-option');
      // The bar's total: counted from a file's packets; a stream is read once, so it has none.
      const total = process.stderr.isTTY && !isStreamSource(video) ? (await probe(video)).frameCount : 0;
      const bar = progressBar('extract', total);
      const result = await extractMotion(video, {
        format,
        grid,
        units,
        keyFrames: opts.keyframes !== false,
        keyFrameWidth: keySize.width,
        keyFrameHeight: keySize.height,
        onProgress: (done) => bar.update(done),
        onWarning: warn,
        ...(inputOptions ? { inputOptions } : {}),
        ...(out !== undefined ? { out } : {}),
      }).finally(() => bar.stop());
      if (opts.json) {
        printJson(result);
      } else if (result.out !== null) {
        const s = result.summary;
        const t = s.framesByType;
        process.stdout.write(
          `${video}: ${s.frames} frames (I ${t.I}, P ${t.P}, B ${t.B}), ${s.vectors} vectors ` +
            `(${fixed(s.vectorsPerFrame, 1)} per frame, mean |MV| ${fixed(s.meanMagnitude)} px)\n` +
            `wrote ${result.files.join(', ')}\n`,
        );
      }
    });
}

/** extract on a folder: every video under it into the same tree under `out`. */
async function extractFolderCommand(folder: string, out: string | undefined, settings: ExtractFolderOptions, opts: Record<string, unknown>): Promise<void> {
  if (out === undefined) throw new UsageError(`${folder} is a folder: give --out <folder> for its videos' outputs`);
  const { extractFolder } = await import('../app/extract.js'); // loaded on use
  const queue = opts.queue === undefined ? undefined : queueUrl(opts.queue);
  let bar: ReturnType<typeof progressBar> | undefined;
  const result = await extractFolder(folder, out, {
    ...settings,
    ...(opts.jobs !== undefined ? { jobs: positiveInteger(opts.jobs, 'jobs') } : {}),
    ...(queue !== undefined ? { queue } : {}),
    ...(opts.attempts !== undefined ? { attempts: positiveInteger(opts.attempts, 'attempts') } : {}),
    onProgress: (done, total) => {
      bar ??= progressBar('extract', total, 'videos');
      bar.update(done);
    },
    onWarning: warn,
  }).finally(() => bar?.stop());
  warnSome(
    result.failed.map((f) => `${f.path}: ${f.reason}`),
    (n) => `${n} more videos that failed (--json lists every one)`,
  );
  if (opts.json) printJson(result);
  else process.stdout.write(`${folder}: ${result.videos.length} videos extracted into ${result.out}, ${result.failed.length} failed\n`);
  if (result.videos.length === 0) process.exitCode = 1;
}
