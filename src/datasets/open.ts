// One entry point for every layout: look at what is at a path and pick the reader.

import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { MvclassError } from '../util/errors.js';
import { nonEmptyString } from '../util/validate.js';
import { isFile } from './files.js';
import { readFolderDataset } from './folder.js';
import { readHmdb51 } from './hmdb51.js';
import { readKinetics } from './kinetics.js';
import { readManifest } from './manifest.js';
import { holdOutValidation, stratifiedSplit } from './split.js';
import type { DatasetKind, VideoDataset } from './types.js';
import { readUcf101 } from './ucf101.js';

export interface OpenDatasetOptions {
  /** UCF101 / HMDB51 official split (default 1). */
  split?: 1 | 2 | 3;
  /** Folder-per-class only: seed and test share of the generated split. */
  seed?: number;
  testFraction?: number;
  /** Kinetics only: where the clips are (default the CSV's folder). */
  videos?: string;
  /** Any layout: move this share of each class's training videos to a validation split. */
  valFraction?: number;
}

/** The first line of a file, without reading all of a large CSV. */
async function firstLine(file: string): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.toString('utf8', 0, bytesRead).replace(/^\uFEFF/, '').split('\n')[0]!.replace(/\r$/, '');
  } finally {
    await handle.close();
  }
}

/** Which reader a path needs, without reading the dataset. */
export async function detectLayout(spec: string): Promise<DatasetKind> {
  const target = path.resolve(nonEmptyString(spec, 'dataset'));
  const info = await stat(target).catch(() => undefined);
  if (!info) throw new MvclassError(`${target}: no such file or folder`, target);
  if (info.isFile()) {
    if (path.extname(target).toLowerCase() !== '.csv') {
      throw new MvclassError(`${target}: expected a dataset folder or a .csv file`, target);
    }
    const header = (await firstLine(target)).replace(/"/g, '').replace(/\s/g, '').toLowerCase();
    return header.startsWith('label,youtube_id') ? 'kinetics' : 'manifest';
  }
  if (!info.isDirectory()) throw new MvclassError(`${target}: expected a dataset folder or a .csv file`, target);
  for (const dir of [target, path.join(target, 'ucfTrainTestlist')]) {
    if (await isFile(path.join(dir, 'classInd.txt'))) return 'ucf101';
  }
  for (const dir of [target, path.join(target, 'testTrainMulti_7030_splits')]) {
    const files = await readdir(dir).catch(() => [] as string[]);
    if (files.some((f) => f.endsWith('_test_split1.txt'))) return 'hmdb51';
  }
  return 'folder';
}

/**
 * Opens a dataset whatever its layout: a Kinetics CSV, a manifest CSV, a UCF101 or HMDB51 folder,
 * or a folder per class (then split into train and test with stratifiedSplit, seeded).
 */
export async function openDataset(spec: string, options: OpenDatasetOptions = {}): Promise<VideoDataset> {
  const dataset = await readLayout(spec, options);
  if (!options.valFraction) return dataset;
  return { ...dataset, items: holdOutValidation(dataset.items, { fraction: options.valFraction, seed: options.seed ?? 1 }) };
}

async function readLayout(spec: string, options: OpenDatasetOptions): Promise<VideoDataset> {
  const target = path.resolve(nonEmptyString(spec, 'dataset'));
  switch (await detectLayout(target)) {
    case 'kinetics':
      return readKinetics(target, options.videos ?? path.dirname(target));
    case 'manifest':
      return readManifest(target);
    case 'ucf101':
      return readUcf101(target, { split: options.split ?? 1 });
    case 'hmdb51':
      return readHmdb51(target, { split: options.split ?? 1 });
    case 'folder': {
      const dataset = await readFolderDataset(target);
      const split = { testFraction: options.testFraction ?? 0.2, seed: options.seed ?? 1 };
      return { ...dataset, items: stratifiedSplit(dataset.items, split) };
    }
  }
}
