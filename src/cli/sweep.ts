import { Command, Option } from 'commander';
import { VIDEO_CODECS, type VideoCodec } from '../codec/encode.js';
import { integerInRange, oneOf, positiveInteger } from '../util/validate.js';
import { fixed, printJson, warn } from './output.js';
import { parseQpList } from './rates.js';

export function sweepCommand(): Command {
  return new Command('sweep')
    .description('seed 004 on a dataset: per QP prepare, train the 3D/2D/spatial CNNs, evaluate and fuse; fit the Multi-CNN; write the report')
    .argument('<dataset>', 'a dataset folder, Kinetics CSV or manifest')
    .requiredOption('-o, --out <dir>', 'where caches, runs, mcnn.json and report.html go (a rerun reuses finished stages)')
    .option('--qp <list>', 'QPs to sweep', '0,30,40,51')
    .addOption(new Option('--codec <codec>', 'h264 or hevc').default('h264'))
    .option('--fit-qp <n>', 'QP at which the Multi-CNN is fitted (default 30 if swept)')
    .option('--cpu', 'small networks and a short schedule that fit a 2-core CPU (default: the paper\'s)')
    .option('--iterations <n>', 'SGD iterations per network (overrides the schedule)')
    .option('--val-fraction <x>', 'validation share of each class\'s training videos', '0.15')
    .option('--seed <n>', 'seed', '1')
    .option('--threads <n>', 'libtorch threads (0: leave its default)', '0')
    .option('--json', 'print the result as JSON')
    .action(async (dataset: string, opts: Record<string, string | boolean | undefined>) => {
      // Loaded here: the pipeline brings the plotting libraries, which other commands never need.
      const { CPU_SCHEDULE, PAPER_SCHEDULE, runSweep } = await import('../pipeline/sweep.js');
      const base = opts.cpu ? CPU_SCHEDULE : PAPER_SCHEDULE;
      const schedule = opts.iterations !== undefined ? { ...base, iterations: positiveInteger(opts.iterations, 'iterations') } : base;
      const result = await runSweep({
        dataset,
        out: String(opts.out),
        qps: parseQpList(opts.qp),
        codec: oneOf(opts.codec, 'codec', VIDEO_CODECS) as VideoCodec,
        ...(opts.fitQp !== undefined ? { fitQp: integerInRange(opts.fitQp, 'fit-qp', 0, 51) } : {}),
        valFraction: Number(opts.valFraction),
        seed: positiveInteger(opts.seed, 'seed'),
        threads: integerInRange(opts.threads, 'threads', 0, 1024),
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
