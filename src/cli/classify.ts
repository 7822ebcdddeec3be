import { Command } from 'commander';
import { keyValuePairs, testViewsOption } from '../util/validate.js';
import { parseDevice, parsePrecision } from '../nn/device.js';
import { deviceOption, precisionOption, threadsOption, threadsValue } from './device.js';
import { fixed, printJson, warn } from './output.js';

export function classifyCommand(): Command {
  return new Command('classify')
    .description('one video in, the fused top-5 of one or more trained networks out, with the time of each stage')
    .argument('<video>', 'a file, - for standard input, or an http(s):// or rtsp(s):// URL')
    .option('--input-option <key=value...>', 'demuxer/protocol option, as ffmpeg -i takes it (e.g. rtsp_transport=tcp)')
    .requiredOption('--run <run...>', 'run folders from mvclass train (several: their scores are averaged)')
    .option('--encode', 're-encode the video as the training cache was made (size, fps, QP) first')
    .option('--views <TxC>', 'temporal views x crops per view (crops 1 or 10)', '10x10')
    .addOption(deviceOption())
    .addOption(precisionOption())
    .addOption(threadsOption())
    .option('--json', 'print the result as JSON')
    .action(async (video: string, opts: { run: string[]; encode?: boolean; views: string; device: string; precision: string; threads: string; json?: boolean; inputOption?: string[] }) => {
      const device = parseDevice(opts.device, 'device');
      const threads = threadsValue(opts.threads);
      const { classifyVideo } = await import('../app/classify.js'); // libtorch and the workflows, loaded on use
      const inputOptions = keyValuePairs(opts.inputOption, 'input-option');
      const r = await classifyVideo(video, opts.run, {
        encode: opts.encode === true,
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
