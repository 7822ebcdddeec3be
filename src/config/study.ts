// A repeats study's spec (`mvclass study repeats <spec>`): one network trained several times on
// each of two or more conditions (caches, or datasets prepared with their own settings). JSON or
// YAML, checked key by key before anything runs, each message naming the file and the key path in
// the words of the config files (file.ts):
//   study.yaml: Expected a positive integer for repeats but received "x"
//   study.yaml: unknown key conditions[1].prepare.qpp (did you mean conditions[1].prepare.qp?)
//
//   model: mv3d            # any of MODELS; optional frames, size, width, fc, iterations, batch,
//   repeats: 10            #   lr, optimizer, seed (the base seed: run k gets seed + k), views (TxC)
//   conditions:            # 2 or more, names unique
//     - { name: qp30, data: ../caches/qp30 }                     # a prepared cache
//     - { name: qp45, dataset: ../set, prepare: { qp: 45 } }     # prepared into <out>/caches/qp45
//     - { name: roi, dataset: ../set, prepare: { roi-file: crops.csv, size: 112x112 } }  # a region per video
//
// Relative paths are relative to the spec file's folder.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { MODELS, type ModelName, type OptimizerName } from '../nn/model.js';
import { MvclassError, UsageError } from '../util/errors.js';
import { show } from '../util/fields.js';
import { integerInRange, nonEmptyString, positiveInteger, testViewsOption } from '../util/validate.js';
import { isObject, parseDocumentText, unknownKey } from './file.js';
import { checkSetting, PREPARE_FIELDS, TRAIN_FIELDS, type FieldSpec, type SettingValue } from './schema.js';

/** What a condition's `prepare:` may set: prepare's own keys, but one QP (a condition is one cache) and no queue. */
const CONDITION_PREPARE_FIELDS: Record<string, FieldSpec> = {
  ...Object.fromEntries(Object.entries(PREPARE_FIELDS).filter(([key]) => key !== 'queue' && key !== 'attempts')),
  qp: { check: (v, n) => integerInRange(v, n, 0, 51) },
};

/** The training keys of a spec: train's, by the same validators (so `lr: -1` reads as it does on the command line). */
const TRAINING_KEYS = ['model', 'frames', 'size', 'width', 'fc', 'iterations', 'batch', 'lr', 'optimizer', 'seed'] as const;
const TOP_KEYS = [...TRAINING_KEYS, 'views', 'repeats', 'conditions'];
const CONDITION_KEYS = ['name', 'data', 'dataset', 'prepare'];
/** A condition's name is a folder name under <out>/runs and <out>/caches, and a column of the tables. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export const DEFAULT_REPEATS = 10;

const viewsText = (value: unknown, name: string): string => {
  const { temporal, crops } = testViewsOption(value, name);
  return `${temporal}x${crops}`;
};

export type RepeatsCondition =
  /** An absolute path to a prepared cache folder. */
  | { name: string; data: string }
  /** A dataset (absolute path) and prepare's settings for it, as a config file's `prepare:` section holds them (kebab-case keys). */
  | { name: string; dataset: string; prepare: Record<string, SettingValue> };

export interface RepeatsSpec {
  model: ModelName;
  frames?: number;
  size?: number;
  width?: number;
  fc?: number;
  iterations?: number;
  batch?: number;
  lr?: number;
  optimizer?: OptimizerName;
  /** The base seed: repeat k trains with seed + k (default 1). */
  seed: number;
  /** Test views "<temporal>x<crops>" (default: evaluation's, the paper's 10x10). */
  views?: string;
  repeats: number;
  conditions: RepeatsCondition[];
}

/** Reads and checks a spec file. A file that cannot be read fails as an input (exit 1); one that says something wrong is a usage error (exit 2). */
export async function loadRepeatsSpec(file: string): Promise<RepeatsSpec> {
  const text = await fs.readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new MvclassError(`${file}: cannot read the study spec (${error.code ?? error.message})`, file);
  });
  return checkRepeatsSpec(parseDocumentText(text, file, 'a study spec'), file, path.dirname(path.resolve(file)));
}

/** Checks a parsed spec (a file's value, or an object a program made); `where` names it in messages, `dir` anchors relative paths. */
export function checkRepeatsSpec(value: unknown, where: string, dir = process.cwd()): RepeatsSpec {
  const fail = (problem: string) => new UsageError(`${where}: ${problem}`);
  if (!isObject(value)) throw fail(`Expected a mapping (${TOP_KEYS.join(', ')}) but received ${show(value)}`);
  for (const key of Object.keys(value)) if (!TOP_KEYS.includes(key)) throw unknownKey(where, '', key, TOP_KEYS);
  const training: Record<string, SettingValue> = {};
  for (const key of TRAINING_KEYS) {
    if (Object.hasOwn(value, key)) training[key] = checkSetting(TRAIN_FIELDS[key]!, value[key], key, where);
  }
  if (training.model === undefined) throw fail(`model is missing: give the network to train (one of ${MODELS.join(', ')})`);
  const views = Object.hasOwn(value, 'views') ? checkSetting({ check: viewsText }, value.views, 'views', where) : undefined;
  const repeats = Object.hasOwn(value, 'repeats') ? (checkSetting({ check: positiveInteger }, value.repeats, 'repeats', where) as number) : DEFAULT_REPEATS;
  if (!Object.hasOwn(value, 'conditions')) throw fail('conditions is missing: give 2 or more, each with a name and data (a prepared cache) or dataset (with prepare settings)');
  const list = value.conditions;
  if (!Array.isArray(list) || list.length < 2) throw fail(`Expected a list of 2 or more conditions for conditions but received ${show(list)}`);
  const conditions = list.map((item, i) => checkCondition(item, `conditions[${i}]`, where, dir));
  // Names are folders: unique ignoring case, as on a case-insensitive file system.
  const seen = new Map<string, number>();
  conditions.forEach((c, i) => {
    const earlier = seen.get(c.name.toLowerCase());
    if (earlier !== undefined) throw fail(`conditions[${i}].name ${JSON.stringify(c.name)} is already the name of conditions[${earlier}]: names must be unique`);
    seen.set(c.name.toLowerCase(), i);
  });
  const { model, seed, ...rest } = training;
  return {
    model: model as ModelName,
    ...(rest as Omit<RepeatsSpec, 'model' | 'seed' | 'repeats' | 'conditions' | 'views'>),
    seed: (seed as number | undefined) ?? 1,
    ...(views !== undefined ? { views: views as string } : {}),
    repeats,
    conditions,
  };
}

function checkCondition(item: unknown, at: string, where: string, dir: string): RepeatsCondition {
  const fail = (problem: string) => new UsageError(`${where}: ${problem}`);
  if (!isObject(item)) throw fail(`Expected a mapping (name, data or dataset, prepare) for ${at} but received ${show(item)}`);
  for (const key of Object.keys(item)) if (!CONDITION_KEYS.includes(key)) throw unknownKey(where, `${at}.`, key, CONDITION_KEYS);
  if (!Object.hasOwn(item, 'name')) throw fail(`${at}.name is missing: each condition needs a name`);
  const name = checkSetting({ check: nonEmptyString }, item.name, `${at}.name`, where) as string;
  if (!NAME.test(name)) throw fail(`${at}.name ${JSON.stringify(name)} is not a safe folder name (letters, digits, . _ -, not starting with . _ or -)`);
  const has = (key: string) => Object.hasOwn(item, key);
  if (has('data') && has('dataset')) throw fail(`${at} has both data and dataset: give one (data: a prepared cache; dataset: prepared into <out>/caches/${name})`);
  const resolved = (key: string) => path.resolve(dir, checkSetting({ check: nonEmptyString }, item[key], `${at}.${key}`, where) as string);
  if (has('data')) {
    if (has('prepare')) throw fail(`${at}.prepare goes with dataset, not with data (a cache is prepared already)`);
    return { name, data: resolved('data') };
  }
  if (!has('dataset')) throw fail(`${at} needs data (a prepared cache folder) or dataset (prepared into <out>/caches/${name})`);
  const raw = has('prepare') ? item.prepare : {};
  if (!isObject(raw)) throw fail(`Expected a mapping of prepare settings for ${at}.prepare but received ${show(raw)}`);
  const prepare: Record<string, SettingValue> = {};
  for (const [key, v] of Object.entries(raw)) {
    const spec = Object.hasOwn(CONDITION_PREPARE_FIELDS, key) ? CONDITION_PREPARE_FIELDS[key] : undefined;
    if (!spec) throw unknownKey(where, `${at}.prepare.`, key, Object.keys(CONDITION_PREPARE_FIELDS));
    const checked = checkSetting(spec, v, `${at}.prepare.${key}`, where);
    // A path (roi-file) is relative to the spec's folder, as dataset and data are.
    prepare[key] = spec.path && typeof checked === 'string' ? path.resolve(dir, checked) : checked;
  }
  if (prepare['roi-file'] !== undefined && prepare.roi !== undefined) throw fail(`${at}.prepare: give either roi (one region for every video) or roi-file (a region per video), not both`);
  if (prepare['roi-unlisted'] !== undefined && prepare['roi-file'] === undefined) throw fail(`${at}.prepare: roi-unlisted goes with roi-file (the videos that file does not list)`);
  if (prepare['as-is'] === true && (prepare.qp !== undefined || prepare.crf !== undefined)) throw fail(`${at}.prepare: as-is keeps the input as it is: drop qp and crf`);
  return { name, dataset: resolved('dataset'), prepare };
}
