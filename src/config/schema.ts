// What a config file and a preset may hold: one section per command, each key the command's long
// option name (`lr-step` for --lr-step), each value checked by the validator that checks the flag,
// so a file and the command line fail with the same words. A section is a table here: a study (or
// any command that wants settings) takes a section later by adding its fields to SECTIONS.
//
//   preset: cpu              # optional: the preset this file starts from (--preset overrides it)
//   prepare: { qp: 30, key-size: 112x112 }
//   train:                   # train, and the sweep's networks
//     batch: 16
//     mv3d: { frames: 64 }   # per-network shapes: frames, size, width, fc
//   sweep: { qp: [30, 40], views: 3x10 }

import { pictureRegion, regionText } from '../codec/region.js';
import { UNLISTED_CHOICES } from './regions.js';
import { clipFrames, clipShortSide } from '../codec/clips.js';
import { VIDEO_CODECS } from '../codec/encode.js';
import { parseDevice, parsePrecision } from '../nn/device.js';
import { queueUrl } from '../queue/queue.js';
import { BACKBONES, MODELS, OPTIMIZERS, type ModelName, type OptimizerName } from '../nn/model.js';
import { UsageError } from '../util/errors.js';
import {
  fraction,
  frameSize,
  integerInRange,
  invalid,
  nonEmptyString,
  nonNegativeInteger,
  nonNegativeNumber,
  oneOf,
  positiveInteger,
  positiveNumber,
  testViewsOption,
} from '../util/validate.js';

/** A setting as a file holds it after checking: numbers as numbers, sizes and lists as the flag's text. */
export type SettingValue = string | number | boolean;

export interface FieldSpec {
  /** Checks a value from a file or a flag and returns it in one form (throws a UsageError naming `name`). */
  check: (value: unknown, name: string) => SettingValue;
  /** A path: relative ones in a file are relative to the file's folder. */
  path?: boolean;
}

const qpList = (value: unknown, name: string): string => {
  // A file may say `qp: 30`, `qp: [30, 40]` or `qp: "30,40"`; the command takes "30,40".
  const list = typeof value === 'number' ? [value] : Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : null;
  if (list === null || list.length === 0) throw invalid('a QP or a list of QPs from 0 to 51', name, value);
  return list.map((q, i) => integerInRange(typeof q === 'string' ? q.trim() : q, list.length > 1 ? `${name}[${i}]` : name, 0, 51)).join(',');
};
const size = (value: unknown, name: string): string => {
  const { width, height } = frameSize(value, name);
  return `${width}x${height}`;
};
const views = (value: unknown, name: string): string => {
  const { temporal, crops } = testViewsOption(value, name);
  return `${temporal}x${crops}`;
};
const boolean = (value: unknown, name: string): boolean => {
  if (typeof value !== 'boolean') throw invalid('true or false', name, value);
  return value;
};
const threads = (value: unknown, name: string): number => integerInRange(value, name, 0, 1024);
const qp = (value: unknown, name: string): number => integerInRange(value, name, 0, 51);
const openFraction = (value: unknown, name: string): number => {
  const n = fraction(value, name);
  if (n <= 0 || n >= 1) throw invalid('a number between 0 and 1 (exclusive)', name, value);
  return n;
};

/** The shape of one network: what `train.mv3d:` (and the like) may set. */
export const SHAPE_FIELDS: Record<string, FieldSpec> = {
  frames: { check: positiveInteger },
  size: { check: positiveInteger },
  width: { check: positiveNumber },
  fc: { check: positiveInteger },
  /** A clip network's per-frame ResNet (cnn-lstm). */
  backbone: { check: (v, n) => oneOf(v, n, BACKBONES) },
};

export const TRAIN_FIELDS: Record<string, FieldSpec> = {
  model: { check: (v, n) => oneOf(v, n, MODELS) },
  data: { check: nonEmptyString, path: true },
  iterations: { check: positiveInteger },
  batch: { check: positiveInteger },
  optimizer: { check: (v, n) => oneOf(v, n, OPTIMIZERS) },
  lr: { check: positiveNumber },
  'lr-step': { check: positiveInteger },
  'weight-decay': { check: nonNegativeNumber },
  warmup: { check: nonNegativeInteger },
  'clip-norm': { check: nonNegativeNumber },
  'val-every': { check: nonNegativeInteger },
  ...SHAPE_FIELDS,
  weights: { check: nonEmptyString, path: true },
  init: { check: nonEmptyString, path: true },
  'backbone-lr': { check: fraction },
  'freeze-backbone': { check: nonNegativeInteger },
  seed: { check: positiveInteger },
  threads: { check: threads },
  device: { check: parseDevice },
  precision: { check: parsePrecision },
};

export const PREPARE_FIELDS: Record<string, FieldSpec> = {
  codec: { check: (v, n) => oneOf(v, n, VIDEO_CODECS) },
  qp: { check: qpList },
  crf: { check: qp },
  'as-is': { check: boolean },
  roi: { check: (v, n) => regionText(pictureRegion(v, n)) },
  'roi-file': { check: nonEmptyString, path: true },
  'roi-unlisted': { check: (v, n) => oneOf(v, n, UNLISTED_CHOICES) },
  size: { check: size },
  fps: { check: positiveInteger },
  'key-size': { check: size },
  rgb: { check: (v, n) => clipFrames(v, n) },
  'short-side': { check: (v, n) => clipShortSide(v, n) },
  split: { check: (v, n) => integerInRange(v, n, 1, 3) },
  seed: { check: positiveInteger },
  'val-fraction': { check: openFraction },
  jobs: { check: positiveInteger },
  queue: { check: queueUrl },
  attempts: { check: positiveInteger },
};

export const SWEEP_FIELDS: Record<string, FieldSpec> = {
  qp: { check: qpList },
  codec: { check: (v, n) => oneOf(v, n, VIDEO_CODECS) },
  'fit-qp': { check: qp },
  views: { check: views },
  'val-fraction': { check: openFraction },
  seed: { check: positiveInteger },
  threads: { check: threads },
  device: { check: parseDevice },
};

export interface SectionSpec {
  fields: Record<string, FieldSpec>;
  /** Sub-sections named after the networks, each holding these fields (train's shapes). */
  perModel?: Record<string, FieldSpec>;
}

/** Every section a config file may have. A study adds its own here. */
export const SECTIONS = {
  prepare: { fields: PREPARE_FIELDS },
  train: { fields: TRAIN_FIELDS, perModel: SHAPE_FIELDS },
  sweep: { fields: SWEEP_FIELDS },
} as const satisfies Record<string, SectionSpec>;

export type SectionName = keyof typeof SECTIONS;
export const SECTION_NAMES = Object.keys(SECTIONS) as SectionName[];

/** A section's settings: flat keys, and (train) one object per network. */
export type SectionValues = { [key: string]: SettingValue | Partial<Record<string, SettingValue>> | undefined } & Partial<Record<ModelName, Record<string, SettingValue>>>;

export const PRESET_NAMES = ['paper', 'cpu'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

/** A config file, or a preset: the same shape. */
export interface ConfigDocument {
  preset?: PresetName;
  prepare?: SectionValues;
  train?: SectionValues;
  sweep?: SectionValues;
}

/** `lr-step` -> `lrStep`: commander's attribute name for a long option. */
export function attributeName(key: string): string {
  return key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Checks one value of a section, naming `where` (the file) and the key path in the message. */
export function checkSetting(spec: FieldSpec, value: unknown, keyPath: string, where?: string): SettingValue {
  try {
    return spec.check(value, keyPath);
  } catch (error) {
    if (where !== undefined && error instanceof Error) throw new UsageError(`${where}: ${error.message}`);
    throw error;
  }
}

/** The sweep's networks: the paper's three (the resnets are not part of its study). */
export const SWEEP_NETWORKS = ['mv3d', 'mv2d', 'vgg16'] as const satisfies readonly ModelName[];
export type SweepNetwork = (typeof SWEEP_NETWORKS)[number];

/** A network's shape in a schedule. */
export interface NetworkShape {
  frames: number;
  size: number;
  width: number;
  fc: number;
}

/** The training schedule of a sweep (from a preset and the config file). */
export interface SweepSchedule {
  iterations: number;
  batch: number;
  /** sgd (the presets'), adam or adamw: the config file's train.optimizer. */
  optimizer: OptimizerName;
  lr: number;
  lrStep: number;
  mv3d: NetworkShape;
  mv2d: NetworkShape;
  vgg16: NetworkShape;
  /** Test views: temporal positions x crops. */
  temporal: number;
  crops: 1 | 10;
  keySize: string;
  /** Training settings passed on when set (trainModel's defaults otherwise). */
  warmup?: number;
  clipNorm?: number;
  valEvery?: number;
  weightDecay?: number;
}
