import { Command } from 'commander';
import { keyValuePairs, positiveInteger, testViewsOption } from '../util/validate.js';
import { UsageError } from '../util/errors.js';
import { parseDevice, parsePrecision } from '../nn/device.js';
import { deviceOption, precisionOption, threadsOption, threadsValue } from './device.js';
import { fixed, printJson, warn } from './output.js';
import { isMotionModel } from '../run/format.js';
import { pictureRegion } from '../codec/region.js';

export function classifyCommand(): Command {
  return new Command('classify')
    .description('one video in, the fused top-5 of one or more trained networks out, with the time of each stage')
    .argument('<video>', 'a file, - for standard input, or an http(s):// or rtsp(s):// URL')
    .option('--input-option <key=value...>', 'demuxer/protocol option, as ffmpeg -i takes it (e.g. rtsp_transport=tcp)')
    .requiredOption('--run <run...>', 'run folders from mvclass train (several: their scores are averaged)')
    .option('--encode', 're-encode the video as the training cache was made (size, fps, QP) first')
    .option('--roi <x,y,w,h>', "with --encode: cut this region of every picture before re-encoding (the video's region, for networks trained on prepare --roi-file; replaces a --roi the cache was prepared with)")
    .option('--views <TxC>', 'temporal views x crops per view (crops 1 or 10; with --rolling only the crops count, default 1)', '10x10')
    .option('--rolling <n>', "one network's label over time, the mean of the last n scores: a frame network trained on clips (prepare --rgb) frame by frame, mv3d or mv2d on the window of its T frames ending there")
    .option('--stride <k>', 'with --rolling: score every k-th frame, or window (default: every one, up to 1500 scores)')
    .addOption(deviceOption())
    .addOption(precisionOption())
    .addOption(threadsOption())
    .option('--json', 'print the result as JSON')
    .action(async (video: string, opts: { run: string[]; encode?: boolean; roi?: string; views: string; rolling?: string; stride?: string; device: string; precision: string; threads: string; json?: boolean; inputOption?: string[] }, command: Command) => {
      const device = parseDevice(opts.device, 'device');
      const threads = threadsValue(opts.threads);
      if (opts.roi !== undefined && opts.encode !== true) throw new UsageError('--roi goes with --encode (the region is cut before the video is re-encoded)');
      const region = opts.roi !== undefined ? { region: pictureRegion(opts.roi, 'roi') } : {};
      if (opts.rolling !== undefined || opts.stride !== undefined) {
        if (opts.rolling === undefined) throw new UsageError('--stride goes with --rolling <n>');
        const rolling = positiveInteger(opts.rolling, 'rolling');
        const stride = opts.stride === undefined ? undefined : positiveInteger(opts.stride, 'stride');
        if (opts.run.length !== 1) throw new UsageError(`--rolling follows one network over time: give one --run, not ${opts.run.length}`);
        const crops = command.getOptionValueSource('views') === 'default' ? 1 : testViewsOption(opts.views).crops;
        const inputOptions = keyValuePairs(opts.inputOption, 'input-option');
        const { classifyRolling } = await import('../app/rolling.js');
        const r = await classifyRolling(video, opts.run[0]!, {
          rolling,
          ...(stride !== undefined ? { stride } : {}),
          crops,
          encode: opts.encode === true,
          ...region,
          device,
          precision: parsePrecision(opts.precision, 'precision'),
          threads,
          onWarning: warn,
          onMismatch: warn,
          ...(inputOptions ? { inputOptions } : {}),
        });
        if (opts.json) return printJson(r);
        const every = r.stride === 1 ? 'every frame' : `one frame in ${r.stride}`;
        // A motion network's points are windows of T frames, each timed at its last frame.
        const scored = isMotionModel(r.model)
          ? `${r.window}-frame windows, ${r.stride === 1 ? 'one per frame' : `one every ${r.stride} frames`} (${r.points.length} windows over ${r.frames} frames)`
          : `${every} (${r.points.length} of ${r.frames})`;
        const lines = [
          `${video}: ${r.model}, ${scored}, rolling mean of ${r.rolling}:`,
          ...r.segments.map((g) => `  ${fixed(g.from, 2).padStart(8)} - ${fixed(g.to, 2).padEnd(8)} s  ${g.class}`),
          `video: ${r.top1} (${fixed(100 * r.probability, 1)}%, the mean of the ${isMotionModel(r.model) ? 'windows' : 'frames'}' scores)`,
          `seconds: ${Object.entries(r.seconds).map(([k, v]) => `${k} ${fixed(v, 3)}`).join(', ')}`,
        ];
        process.stdout.write(lines.join('\n') + '\n');
        return;
      }
      const { classifyVideo } = await import('../app/classify.js'); // libtorch and the workflows, loaded on use
      const inputOptions = keyValuePairs(opts.inputOption, 'input-option');
      const r = await classifyVideo(video, opts.run, {
        encode: opts.encode === true,
        ...region,
        ...testViewsOption(opts.views),
        device,
        precision: parsePrecision(opts.precision, 'precision'),
        threads,
        onWarning: warn,
        onMismatch: warn,
        ...(inputOptions ? { inputOptions } : {}),
      });
      if (opts.json) return printJson(r);
      const lines = [
        `${video}:`,
        ...r.top5.map((t, i) => `  ${i + 1}. ${t.class.padEnd(12)} ${fixed(100 * t.probability, 1)}%`),
        `streams: ${r.streams.map((s) => `${s.model} says ${s.top1} (${fixed(100 * s.probability, 1)}%)`).join('; ')}`,
        `seconds: ${Object.entries(r.seconds).map(([k, v]) => `${k} ${fixed(v, 3)}`).join(', ')}`,
      ];
      process.stdout.write(lines.join('\n') + '\n');
    });
}
