// HMDB51 as distributed: <root>/<class>/<video>.avi plus testTrainMulti_7030_splits/, one file per
// class and split, <class>_test_split<N>.txt, lines "<video>.avi <tag>" (1 train, 2 test, 0 unused).

import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { MvclassError } from '../util/errors.js';
import { integerInRange } from '../util/validate.js';
import { isDirectory, lineError, lines, readText, sortedNames, VideoFinder } from './files.js';
import type { DatasetItem, MissingVideo, SplitName, VideoDataset } from './types.js';

export interface Hmdb51Options {
  /** Which of the three official splits (default 1). */
  split?: 1 | 2 | 3;
  /** Folder holding the *_test_splitN.txt files (default <root>/testTrainMulti_7030_splits if present, else root). */
  splits?: string;
}

const SPLIT_FILE = /^(.+)_test_split[123]\.txt$/;
const TAGS = new Map<string, SplitName>([['0', 'unused'], ['1', 'train'], ['2', 'test']]);

/** The class names that have split files in `dir`, sorted. */
async function hmdb51Classes(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return sortedNames(names.flatMap((name) => SPLIT_FILE.exec(name)?.[1] ?? []));
}

export async function readHmdb51(root: string, options: Hmdb51Options = {}): Promise<VideoDataset> {
  const split = integerInRange(options.split ?? 1, 'split', 1, 3);
  root = path.resolve(root);
  const defaultDir = path.join(root, 'testTrainMulti_7030_splits');
  const dir = path.resolve(options.splits ?? ((await isDirectory(defaultDir)) ? defaultDir : root));
  const classes = await hmdb51Classes(dir);
  if (classes.length === 0) throw new MvclassError(`${dir}: no HMDB51 split files (<class>_test_split1.txt)`, dir);
  const finder = new VideoFinder();
  const items: DatasetItem[] = [];
  const missing: MissingVideo[] = [];
  for (const [label, className] of classes.entries()) {
    const name = `${className}_test_split${split}.txt`;
    const file = path.join(dir, name);
    for (const { number, text } of lines(await readText(file, 'HMDB51 split file'))) {
      // The tag is the last word; the video name is everything before it.
      const match = /^(.+?)\s+(\S+)$/.exec(text);
      if (!match) throw lineError(file, number, `expected "<video> <tag>" but found "${text}"`);
      const splitName = TAGS.get(match[2]!);
      if (!splitName) throw lineError(file, number, `expected tag 0, 1 or 2 but found "${match[2]}"`);
      const listed = path.join(className, match[1]!);
      const found = await finder.find(root, listed);
      if (found) items.push({ path: found, label, className, split: splitName });
      else missing.push({ path: path.join(root, listed), reason: `listed in ${name} but not found` });
    }
  }
  return { kind: 'hmdb51', root, classes, items, missing };
}
