// The one merge rule: a preset < a config file < the command line. Within one document a
// network's own sub-section (train.mv3d) wins over the section's flat keys (train.frames).

import { testViewsOption } from '../util/validate.js';
import { PRESETS } from './presets.js';
import type { ConfigDocument, NetworkShape, PresetName, SectionName, SettingValue, SweepSchedule } from './schema.js';
import { MODELS, OPTIMIZER_DEFAULTS, OPTIMIZERS, type ModelName, type OptimizerName } from '../nn/model.js';
import { isFrameModel } from '../run/format.js';

export type Settings = Record<string, SettingValue>;

/** One document's settings for a section (and a network): flat keys, then the network's own. */
export function sectionOf(doc: ConfigDocument | undefined, section: SectionName, model?: ModelName): Settings {
  const values = doc?.[section];
  if (!values) return {};
  const out: Settings = {};
  for (const [key, value] of Object.entries(values)) {
    if ((MODELS as readonly string[]).includes(key) || value === undefined || typeof value === 'object') continue;
    out[key] = value;
  }
  if (model !== undefined) Object.assign(out, values[model] ?? {});
  return out;
}

/** The documents' settings for a section, later documents winning. */
export function mergeSection(docs: ReadonlyArray<ConfigDocument | undefined>, section: SectionName, model?: ModelName): Settings {
  return Object.assign({}, ...docs.map((d) => sectionOf(d, section, model))) as Settings;
}

/** The layers below the command line: the preset (--preset, else the file's `preset:`), then the file. */
export function settingLayers(preset: PresetName | undefined, file: ConfigDocument | undefined): ConfigDocument[] {
  const name = preset ?? file?.preset;
  return [...(name ? [PRESETS[name]] : []), ...(file ? [file] : [])];
}

/**
 * The sweep's schedule from documents (a preset, a file): train's iterations, batch, lr, lr-step
 * (warm-up, clip-norm and val-every when set) and network shapes, sweep's views, prepare's key
 * size. What the documents leave unset is the paper's.
 */
export function sweepSchedule(docs: ReadonlyArray<ConfigDocument | undefined>): SweepSchedule {
  const all = [PRESETS.paper, ...docs];
  const train = mergeSection(all, 'train');
  const shape = (model: ModelName): NetworkShape => {
    const s = mergeSection(all, 'train', model);
    return { frames: isFrameModel(model) ? 1 : Number(s.frames), size: Number(s.size), width: Number(s.width), fc: Number(s.fc) };
  };
  const { temporal, crops } = testViewsOption(mergeSection(all, 'sweep').views);
  const optional = (key: string) => (train[key] === undefined ? undefined : Number(train[key]));
  // The presets' learning rates are SGD's: with Adam or AdamW a rate only counts when the user's
  // file gives it, else the optimiser's own default applies (as train's --lr does).
  const optimizer: OptimizerName = (OPTIMIZERS as readonly unknown[]).includes(train.optimizer) ? (train.optimizer as OptimizerName) : 'sgd';
  const ownLr = mergeSection(docs.filter((d) => !Object.values(PRESETS).includes(d as ConfigDocument)), 'train').lr;
  const lr = optimizer === 'sgd' ? Number(train.lr) : ownLr !== undefined ? Number(ownLr) : OPTIMIZER_DEFAULTS[optimizer].lr;
  const weightDecay = optional('weight-decay');
  const warmup = optional('warmup');
  const clipNorm = optional('clip-norm');
  const valEvery = optional('val-every');
  return {
    iterations: Number(train.iterations),
    batch: Number(train.batch),
    optimizer,
    lr,
    lrStep: Number(train['lr-step']),
    mv3d: shape('mv3d'),
    mv2d: shape('mv2d'),
    vgg16: shape('vgg16'),
    temporal,
    crops,
    keySize: String(mergeSection(all, 'prepare')['key-size']),
    ...(warmup !== undefined ? { warmup } : {}),
    ...(clipNorm !== undefined ? { clipNorm } : {}),
    ...(valEvery !== undefined ? { valEvery } : {}),
    ...(weightDecay !== undefined ? { weightDecay } : {}),
  };
}
