import { Command, Option } from 'commander';
import { mergeSection, sweepSchedule } from '../config/merge.js';
import { SWEEP_NETWORKS, type ConfigDocument } from '../config/schema.js';
import { isFrameModel } from '../run/format.js';
import { VIDEO_CODECS, type VideoCodec } from '../codec/encode.js';
import { parseDevice } from '../nn/device.js';
import type { SweepSchedule } from '../config/schema.js';
import { UsageError } from '../util/errors.js';
import { fraction, integerInRange, oneOf, positiveInteger } from '../util/validate.js';
import { deviceOption, threadsOption, threadsValue } from './device.js';
import { fixed, printJson, warn } from './output.js';
import { parseQpList } from './rates.js';
import { addSettingsOptions, givenOnCommandLine, printConfig, resolveSettings, sectionSettings } from './settings.js';

/** A sweep's schedule as a config file: what --print-config shows and --config reads back. */
export function scheduleDocument(schedule: SweepSchedule): ConfigDocument {
  const shapes = Object.fromEntries(SWEEP_NETWORKS.map((m) => {
    const { frames, size, width, fc } = schedule[m];
    return [m, isFrameModel(m) ? { size, width, fc } : { frames, size, width, fc }];
  }));
  return {
    prepare: { 'key-size': schedule.keySize },
    train: {
      iterations: schedule.iterations,
      batch: schedule.batch,
      ...(schedule.optimizer !== 'sgd' ? { optimizer: schedule.optimizer } : {}),
      lr: schedule.lr,
      'lr-step': schedule.lrStep,
      ...(schedule.warmup !== undefined ? { warmup: schedule.warmup } : {}),
      ...(schedule.clipNorm !== undefined ? { 'clip-norm': schedule.clipNorm } : {}),
      ...(schedule.valEvery !== undefined ? { 'val-every': schedule.valEvery } : {}),
      ...(schedule.weightDecay !== undefined ? { 'weight-decay': schedule.weightDecay } : {}),
      ...shapes,
    },
  };
}

export function sweepCommand(): Command {
  const command = new Command('sweep')
    .description('the rate-accuracy paper on a dataset: per QP prepare, train the 3D/2D/spatial CNNs, evaluate and fuse; fit the Multi-CNN; write the report')
    .argument('<dataset>', 'a dataset folder, Kinetics CSV or manifest')
    .requiredOption('-o, --out <dir>', 'where caches, runs, mcnn.json and report.html go (a rerun reuses finished stages)')
    .option('--qp <list>', 'QPs to sweep', '0,30,40,51')
    .addOption(new Option('--codec <codec>', 'h264 or hevc').default('h264'))
    .option('--fit-qp <n>', 'QP at which the Multi-CNN is fitted (default 30 if swept)')
    .option('--cpu', 'the same as --preset cpu: small networks and a short schedule that fit a 2-core CPU (default: the paper\'s)')
    .option('--iterations <n>', 'SGD iterations per network (overrides the schedule)')
    .option('--views <TxC>', 'test views: <temporal>x<crops> (paper preset 10x10, cpu preset 3x10)')
    .option('--val-fraction <x>', 'validation share of each class\'s training videos', '0.15')
    .option('--seed <n>', 'seed', '1')
    .addOption(threadsOption())
    .addOption(deviceOption("when not given: --config's sweep.device, else its train.device"))
    .option('--json', 'print the result as JSON');
  return addSettingsOptions(command).action(async (dataset: string, raw: Record<string, unknown>) => {
    if (raw.cpu) {
      if (raw.preset !== undefined && raw.preset !== 'cpu') throw new UsageError(`--cpu is --preset cpu: give one of --cpu and --preset ${String(raw.preset)}`);
      raw.preset = 'cpu';
    }
    const settings = await resolveSettings(command, raw, 'sweep');
    const opts = settings.opts;
    // The schedule: the paper's, then the preset's and the file's train, sweep and prepare sections, then --iterations and --views.
    const flags: ConfigDocument = {
      train: givenOnCommandLine(command, 'iterations') ? { iterations: positiveInteger(opts.iterations, 'iterations') } : {},
      sweep: opts.views !== undefined ? { views: String(opts.views) } : {},
    };
    const schedule = sweepSchedule([...settings.layers, flags]);
    // The device: --device, else the file's (or preset's) sweep.device, else its train.device (the
    // networks the sweep trains), else cpu.
    const device = parseDevice(settings.given.has('device') ? opts.device : (mergeSection(settings.layers, 'train').device ?? opts.device), 'device');
    if (raw.printConfig) return printConfig({ ...scheduleDocument(schedule), sweep: sectionSettings('sweep', { ...opts, device, views: `${schedule.temporal}x${schedule.crops}` }) });
    // Loaded here: the pipeline brings the plotting libraries, which other commands never need.
    const { runSweep } = await import('../app/sweep.js');
    const result = await runSweep({
      dataset,
      out: String(opts.out),
      qps: parseQpList(opts.qp),
      codec: oneOf(opts.codec, 'codec', VIDEO_CODECS) as VideoCodec,
      ...(opts.fitQp !== undefined ? { fitQp: integerInRange(opts.fitQp, 'fit-qp', 0, 51) } : {}),
      valFraction: fraction(opts.valFraction, 'val-fraction'),
      seed: positiveInteger(opts.seed, 'seed'),
      threads: threadsValue(opts.threads),
      device,
      schedule,
      onStage: (stage, state, seconds) => {
        if (state === 'done') process.stderr.write(`mvclass: ${stage}: ${fixed(seconds, 1)} s\n`);
        else if (state === 'skipped') process.stderr.write(`mvclass: ${stage}: reused\n`);
      },
      onWarning: warn,
    });
    if (opts.json) return printJson(result);
    process.stdout.write(`${result.report}\n`);
  });
}
