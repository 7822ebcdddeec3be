import path from 'node:path';
import { Command, Option } from 'commander';
import { parseDevice, parsePrecision } from '../nn/device.js';
import { BACKBONES, DEFAULT_CLIP_NORM, MODELS, OPTIMIZER_DEFAULTS, OPTIMIZERS, type ModelName } from '../nn/model.js';
import { attributeName, TRAIN_FIELDS } from '../config/schema.js';
import { readSavedRun, resumedSettings } from '../config/run.js';
import { refuseExistingRun } from '../run/format.js';
import { UsageError } from '../util/errors.js';
import { progressBar } from '../util/progress.js';
import { fraction, nonNegativeInteger, nonNegativeNumber, oneOf, positiveInteger, positiveNumber } from '../util/validate.js';
import { deviceOption, precisionOption, threadsOption, threadsValue } from './device.js';
import { fixed, printJson } from './output.js';
import { addSettingsOptions, printConfig, resolveSettings, sectionSettings } from './settings.js';

export function trainCommand(): Command {
  const command = new Command('train')
    .description("train mv3d, mv2d (motion), vgg16 or a resnet (key frame or clip frames), cnn-lstm or x3d-s (clips) on a prepared cache (the paper's SGD schedule by default)")
    .addOption(new Option('--model <name>', `${MODELS.join(' | ')} (required), or train.model in --config; --resume takes the run's`))
    .addOption(new Option('--data <cache>', 'a cache from mvclass prepare (required), or train.data in --config; --resume takes the run\'s'))
    .requiredOption('-o, --out <run>', 'run folder: model.pt, run.json, metrics.jsonl')
    .option('--iterations <n>', 'training iterations (paper: 90000)', '90000')
    .option('--batch <n>', 'batch size (paper: 64); an epoch is every training video once, its last batch smaller when n does not divide them (one batch of all when n exceeds them)', '64')
    .option('--optimizer <name>', "sgd (the paper's, momentum 0.9), adam or adamw", 'sgd')
    .option('--lr <x>', `learning rate (default: the optimizer's: sgd ${OPTIMIZER_DEFAULTS.sgd.lr}, the paper's; adam and adamw ${OPTIMIZER_DEFAULTS.adam.lr})`)
    .option('--lr-step <n>', 'multiply the learning rate by 0.1 every n iterations (paper: 30000)', '30000')
    .option('--weight-decay <x>', `weight decay (default: the optimizer's: sgd ${OPTIMIZER_DEFAULTS.sgd.weightDecay}, the paper's; adam ${OPTIMIZER_DEFAULTS.adam.weightDecay}; adamw ${OPTIMIZER_DEFAULTS.adamw.weightDecay}, decoupled)`)
    .option('--warmup <n>', 'raise the learning rate linearly over the first n iterations (default: one epoch, ceil(training videos / batch), at most 500; 0: none)')
    .option('--clip-norm <x>', `clip the gradients to this global L2 norm (0: no clipping)`, String(DEFAULT_CLIP_NORM))
    .option('--val-every <n>', "score the cache's val split every n iterations and keep the best weights as best.pt (default: at each checkpoint, when the cache has a val split; 0: never)")
    .option('--frames <n>', "T: frames per volume (paper: mv3d 160, mv2d 60); cnn-lstm, x3d-s: frames per clip (default: the cache's --rgb)")
    .option('--size <n>', 'N: input side (paper: mv3d 24, mv2d 48, vgg16 224; torchvision\'s resnets 224)')
    .option('--width <x>', "channel multiplier (default 1, the paper's networks and torchvision's resnets; with --init, the run's)")
    .option('--fc <n>', "hidden units of the fully connected layers (paper: 2048 / 4096; a resnet has none and ignores it; cnn-lstm: its first, fc 3fc/4 fc/2, LSTM fc/2, fc/4: the seeds' 1024; x3d-s: its head's, 2048)")
    .option('--backbone <name>', `cnn-lstm: the ResNet applied to each frame, ${BACKBONES.join(' | ')} (default resnet18)`)
    .option('--weights <file>', 'vgg16 or a resnet: torchvision weights (width 1), saved as torch.save(dict(model.state_dict())); a head of other classes is replaced, any other mismatch is an error; cnn-lstm: a torchvision resnet\'s, into its backbone; x3d-s: pytorchvideo\'s x3d_s (width 1, fc 2048)')
    .option('--init <run>', "fine-tune: start from a trained run's weights (the same --model; its shape and motion scale unless given; a new head when the classes differ); cnn-lstm: also a resnet18…152 run, whose weights start the backbone (its depth and width unless given)")
    .option('--backbone-lr <x>', "with --init or --weights: the backbone's learning rate as a factor of the rest's, 0 to 1 (0: frozen; default 1). The backbone is what those weights start: cnn-lstm's ResNet, every other network's all but its class-score layer")
    .option('--freeze-backbone <n>', 'with --init or --weights: keep the backbone frozen (weights, optimiser state, batch-norm statistics) for the first n iterations, then train it at --backbone-lr (default 0)')
    .option('--seed <n>', 'seed (data order, augmentation, initialisation)', '1')
    .addOption(threadsOption())
    .addOption(deviceOption())
    .addOption(precisionOption())
    .option('--resume', "continue the run in --out from its last checkpoint, with the settings in its run.json (flags may raise --iterations, change --threads, --device, --precision, --val-every; others must agree)")
    .option('--force', 'replace a run already in --out (without it, training into an existing run refuses)')
    .option('--json', 'print the result as JSON');
  return addSettingsOptions(command).action(async (raw: Record<string, unknown>) => {
    const out = String(raw.out);
    if (raw.resume && raw.force) throw new UsageError('--resume continues the run in --out and --force replaces it: give one');
    const saved = raw.resume ? await readSavedRun(out) : undefined;
    const settings = await resolveSettings(command, raw, 'train', true, saved?.settings.model as ModelName | undefined);
    let opts = settings.opts;
    let motionStd: number | undefined;
    if (saved) {
      // Old runs may lack a setting: the command's default stands in for it.
      const defaults = Object.fromEntries(Object.keys(TRAIN_FIELDS).filter((k) => raw[attributeName(k)] !== undefined).map((k) => [k, raw[attributeName(k)]])) as Record<string, string>;
      const resumed = resumedSettings(out, { ...saved, settings: { ...defaults, ...saved.settings } }, settings.given);
      opts = { ...raw, ...Object.fromEntries(Object.entries(resumed).map(([k, v]) => [attributeName(k), v])) };
      motionStd = saved.motionStd;
    } else {
      if (opts.model === undefined) throw new UsageError("train needs --model (or train.model in --config)");
      if (opts.data === undefined) throw new UsageError("train needs --data (or train.data in --config)");
      if (!raw.force) await refuseExistingRun(out);
    }
    if (raw.printConfig) {
      const paths = { data: path.resolve(String(opts.data)), ...(typeof opts.weights === 'string' ? { weights: path.resolve(opts.weights) } : {}), ...(typeof opts.init === 'string' ? { init: path.resolve(opts.init) } : {}) };
      return printConfig({ train: sectionSettings('train', { ...opts, ...paths }) });
    }
    const iterations = positiveInteger(opts.iterations, 'iterations');
    const bar = progressBar('train', iterations, 'it');
    const { trainModel } = await import('../app/train.js'); // libtorch and the workflows, loaded on use
    const result = await trainModel({
      model: oneOf(opts.model, 'model', MODELS) as ModelName,
      data: String(opts.data),
      out,
      iterations,
      batch: positiveInteger(opts.batch, 'batch'),
      optimizer: oneOf(opts.optimizer, 'optimizer', OPTIMIZERS),
      ...(opts.lr !== undefined ? { lr: positiveNumber(opts.lr, 'lr') } : {}),
      ...(opts.weightDecay !== undefined ? { weightDecay: nonNegativeNumber(opts.weightDecay, 'weight-decay') } : {}),
      lrStep: positiveInteger(opts.lrStep, 'lr-step'),
      ...(opts.warmup !== undefined ? { warmup: nonNegativeInteger(opts.warmup, 'warmup') } : {}),
      clipNorm: nonNegativeNumber(opts.clipNorm, 'clip-norm'),
      ...(opts.valEvery !== undefined ? { valEvery: nonNegativeInteger(opts.valEvery, 'val-every') } : {}),
      ...(opts.frames !== undefined ? { frames: positiveInteger(opts.frames, 'frames') } : {}),
      ...(opts.size !== undefined ? { size: positiveInteger(opts.size, 'size') } : {}),
      ...(opts.width !== undefined ? { width: positiveNumber(opts.width, 'width') } : {}),
      ...(opts.fc !== undefined ? { fc: positiveInteger(opts.fc, 'fc') } : {}),
      ...(opts.backbone !== undefined ? { backbone: oneOf(opts.backbone, 'backbone', BACKBONES) } : {}),
      ...(typeof opts.weights === 'string' ? { weights: opts.weights } : {}),
      ...(typeof opts.init === 'string' ? { init: opts.init } : {}),
      ...(opts.backboneLr !== undefined ? { backboneLr: fraction(opts.backboneLr, 'backbone-lr') } : {}),
      ...(opts.freezeBackbone !== undefined ? { freezeBackbone: nonNegativeInteger(opts.freezeBackbone, 'freeze-backbone') } : {}),
      seed: positiveInteger(opts.seed, 'seed'),
      threads: threadsValue(opts.threads),
      device: parseDevice(opts.device, 'device'),
      precision: parsePrecision(opts.precision, 'precision'),
      resume: raw.resume === true,
      force: raw.force === true,
      ...(motionStd !== undefined ? { motionStd } : {}),
      onProgress: (s) => bar.update(s.iteration, `loss ${s.loss.toFixed(3)}, accuracy ${(100 * s.accuracy).toFixed(0)}%`),
    }).finally(() => bar.stop());
    if (raw.json) return printJson(result);
    process.stdout.write(
      `${result.run}: ${result.iterations} iterations${result.resumedFrom ? ` (resumed at ${result.resumedFrom})` : ''} in ${fixed(result.seconds, 1)} s; ` +
        `last loss ${fixed(result.finalLoss, 3)}, training accuracy ${fixed(100 * result.finalAccuracy, 1)}%` +
        (result.best ? `; best validation top-1 ${fixed(100 * result.best.top1, 1)}% at iteration ${result.best.iteration} (best.pt)` : '') +
        (result.init ? `; started from ${result.init.run} (${result.init.loaded} tensors taken, ${result.init.skipped} new)` : '') +
        '\n',
    );
  });
}
