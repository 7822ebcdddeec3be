// UCF101 as distributed: <root>/<Class>/v_<Class>_gXX_cYY.avi plus the ucfTrainTestlist folder
// (classInd.txt, trainlist0N.txt, testlist0N.txt).

import path from 'node:path';
import { integerInRange } from '../util/validate.js';
import { MvclassError } from '../util/errors.js';
import { isDirectory, lineError, lines, readText, VideoFinder } from './files.js';
import type { DatasetItem, MissingVideo, SplitName, VideoDataset } from './types.js';

export interface Ucf101Options {
  /** Which of the three official train/test splits (default 1). */
  split?: 1 | 2 | 3;
  /** Folder holding classInd.txt and the lists (default <root>/ucfTrainTestlist if present, else root). */
  annotations?: string;
}

const WHAT = 'UCF101 annotation file';

interface ClassIndex {
  classes: string[];
  /** 1-based index in classInd.txt -> 0-based label. */
  byIndex: Map<number, number>;
  /** Lower-cased class name -> label: list paths do not always match the folder's capitalisation. */
  byName: Map<string, number>;
}

async function readClassInd(file: string): Promise<ClassIndex> {
  const entries: Array<{ index: number; name: string }> = [];
  const seen = new Set<number>();
  for (const { number, text } of lines(await readText(file, WHAT))) {
    const match = /^(\d+)\s+(\S+)$/.exec(text);
    if (!match) throw lineError(file, number, `expected "<index> <ClassName>" but found "${text}"`);
    const index = Number(match[1]);
    if (seen.has(index)) throw lineError(file, number, `class index ${index} appears twice`);
    seen.add(index);
    entries.push({ index, name: match[2]! });
  }
  if (entries.length === 0) throw new MvclassError(`${file}: no classes listed`, file);
  entries.sort((a, b) => a.index - b.index);
  const classes = entries.map((e) => e.name);
  return {
    classes,
    byIndex: new Map(entries.map((e, label) => [e.index, label])),
    byName: new Map(classes.map((name, label) => [name.toLowerCase(), label])),
  };
}

export async function readUcf101(root: string, options: Ucf101Options = {}): Promise<VideoDataset> {
  const split = integerInRange(options.split ?? 1, 'split', 1, 3);
  root = path.resolve(root);
  const defaultDir = path.join(root, 'ucfTrainTestlist');
  const dir = path.resolve(options.annotations ?? ((await isDirectory(defaultDir)) ? defaultDir : root));
  const index = await readClassInd(path.join(dir, 'classInd.txt'));
  const finder = new VideoFinder();
  const items: DatasetItem[] = [];
  const missing: MissingVideo[] = [];

  const readList = async (name: string, splitName: SplitName, needsIndex: boolean): Promise<void> => {
    const file = path.join(dir, name);
    for (const { number, text } of lines(await readText(file, WHAT))) {
      const [listed, indexText, ...extra] = text.split(/\s+/);
      const slash = listed!.indexOf('/');
      if (extra.length > 0 || slash <= 0 || (needsIndex && indexText === undefined)) {
        const form = needsIndex ? '<Class>/<video> <index>' : '<Class>/<video>';
        throw lineError(file, number, `expected "${form}" but found "${text}"`);
      }
      const folder = listed!.slice(0, slash);
      const label = index.byName.get(folder.toLowerCase());
      if (label === undefined) throw lineError(file, number, `class "${folder}" is not in classInd.txt`);
      if (indexText !== undefined) {
        const byIndex = /^\d+$/.test(indexText) ? index.byIndex.get(Number(indexText)) : undefined;
        if (byIndex === undefined) throw lineError(file, number, `class index ${indexText} is not in classInd.txt`);
        // A list whose indices disagree with its folders was written against another classInd.txt.
        if (byIndex !== label) {
          throw lineError(file, number, `class index ${indexText} is ${index.classes[byIndex]} but the video is in ${folder}/`);
        }
      }
      const found = await finder.find(root, listed!);
      if (found) items.push({ path: found, label, className: index.classes[label]!, split: splitName });
      else missing.push({ path: path.join(root, listed!), reason: `listed in ${name} but not found` });
    }
  };
  await readList(`trainlist0${split}.txt`, 'train', true);
  await readList(`testlist0${split}.txt`, 'test', false);
  return { kind: 'ucf101', root, classes: index.classes, items, missing };
}
