import { Command, Option } from 'commander';
import { oneOf, testViewsOption } from '../util/validate.js';
import { parseDevice } from '../nn/device.js';
import { deviceOption, threadsOption, threadsValue } from './device.js';
import { printJson, warn } from './output.js';

export function plotCommand(): Command {
  return new Command('plot')
    .description('figures of training runs as SVG and PNG: loss and train/validation accuracy per iteration, and the confusion matrix when the run has scores')
    .argument('<run...>', 'run folders from mvclass train (their metrics.jsonl)')
    .option('-o, --out <dir>', 'where the figures go, named <run>-training.svg etc. (default: into each run folder)')
    .option('--scores <files...>', 'score files from mvclass eval --save-scores for the confusion matrix (several: fused); default: <run>/scores.json or the sweep\'s scores/<model>.json')
    .option('--data <cache>', 'when a run has no scores: evaluate it on this cache for the confusion matrix')
    .addOption(new Option('--split <split>', 'split to evaluate with --data: train, test or val').default('test'))
    .option('--views <TxC>', 'test views with --data: temporal x crops (paper: 10x10)', '10x10')
    .addOption(threadsOption('with --data'))
    .addOption(deviceOption('with --data'))
    .option('--json', 'print the files written as JSON')
    .action(async (runs: string[], opts: Record<string, string | string[] | boolean | undefined>) => {
      const split = oneOf(opts.split, 'split', ['train', 'test', 'val'] as const);
      const { temporal, crops } = testViewsOption(opts.views);
      const threads = threadsValue(opts.threads);
      const device = parseDevice(opts.device, 'device');
      // Loaded here: the plotting libraries (and libtorch, for --data) only for this command.
      const { plotRuns } = await import('../app/plot.js');
      const result = await plotRuns(runs, {
        ...(typeof opts.out === 'string' ? { out: opts.out } : {}),
        ...(Array.isArray(opts.scores) ? { scores: opts.scores } : {}),
        ...(typeof opts.data === 'string' ? { data: opts.data } : {}),
        split,
        temporal,
        crops,
        threads,
        device,
        onWarning: warn,
      });
      if (opts.json) return printJson(result);
      for (const r of result) {
        for (const file of r.files) process.stdout.write(`${file}\n`);
        if (r.scores.length === 0) warn(`${r.run}: no scores (mvclass eval --run ${r.run} --data <cache> --save-scores ${r.run}/scores.json, or plot --data <cache>): no confusion matrix`);
      }
    });
}
