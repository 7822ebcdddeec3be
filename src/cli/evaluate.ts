import { Command, Option } from 'commander';
import type { ClassificationReport } from '../metrics/classification.js';
import { markdownTable } from '../report/table.js';
import { progressBar } from '../util/progress.js';
import { oneOf, testViewsOption } from '../util/validate.js';
import { parseDevice, parsePrecision } from '../nn/device.js';
import { deviceOption, precisionOption, threadsOption, threadsValue } from './device.js';
import { fixed, printJson } from './output.js';

function printReport(title: string, r: ClassificationReport): void {
  const pct = (x: number) => `${fixed(100 * x, 1)}%`;
  const lines = [
    `${title}: ${r.videos} videos — top-1 ${pct(r.top1)}, top-5 ${pct(r.top5)}, mean class accuracy ${pct(r.meanClassAccuracy)}`,
    '',
    markdownTable(['class', 'accuracy'], r.classes.map((c, i) => [c, pct(r.perClass[i]!)])),
    'confusion (rows truth, columns prediction):',
    '',
    markdownTable(['', ...r.classes], r.confusion.map((row, i) => [r.classes[i]!, ...row])),
  ];
  process.stdout.write(lines.join('\n'));
}

export function evalCommand(): Command {
  return new Command('eval')
    .description('multi-view evaluation of a trained run: top-1, top-5, mean class accuracy, confusion')
    .requiredOption('--run <run>', 'a run folder from mvclass train')
    .requiredOption('--data <cache>', 'a cache from mvclass prepare')
    .option('--views <TxC>', 'temporal views x crops per view (paper: 10x10)', '10x10')
    .addOption(new Option('--split <split>', 'train, test or val').default('test'))
    .option('--checkpoint <which>', 'last (model.pt) or best (best.pt: the best validation accuracy while training)', 'last')
    .option('--save-scores <file>', 'per-video scores, for mvclass fuse')
    .addOption(threadsOption())
    .addOption(deviceOption())
    .addOption(precisionOption())
    .option('--json', 'print the result as JSON')
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const device = parseDevice(opts.device, 'device');
      const { evaluateRun } = await import('../app/evaluate.js'); // libtorch and the workflows, loaded on use
      const views = testViewsOption(opts.views);
      const bar = progressBar('eval', 1, 'videos');
      const result = await evaluateRun({
        run: String(opts.run),
        data: String(opts.data),
        split: oneOf(opts.split, 'split', ['train', 'test', 'val'] as const),
        ...views,
        checkpoint: oneOf(opts.checkpoint, 'checkpoint', ['last', 'best'] as const),
        ...(typeof opts.saveScores === 'string' ? { saveScores: opts.saveScores } : {}),
        threads: threadsValue(opts.threads),
        device,
        precision: parsePrecision(opts.precision, 'precision'),
        onProgress: (done) => bar.update(done),
      }).finally(() => bar.stop());
      if (opts.json) return printJson(result);
      printReport(`${result.model} (${result.split}, ${result.views} views)`, result);
    });
}

export function fuseCommand(): Command {
  return new Command('fuse')
    .description('the "-F" classifiers: average the per-video softmax scores of several streams')
    .argument('<scores...>', 'score files from mvclass eval --save-scores')
    .option('--json', 'print the result as JSON')
    .action(async (files: string[], opts: { json?: boolean }) => {
      const { fuseScores } = await import('../app/evaluate.js');
      const result = await fuseScores(files);
      if (opts.json) return printJson(result);
      printReport(`fused ${result.streams.join(' + ')}`, result);
    });
}
