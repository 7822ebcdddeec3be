// The layout people make by hand: <root>/<class>/**/<video>, one sub-folder per class.

import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { MvclassError } from '../util/errors.js';
import { invalid } from '../util/validate.js';
import { isDirectory, sortedNames, VIDEO_EXTENSIONS, videosUnder } from './files.js';
import type { DatasetItem, VideoDataset } from './types.js';

export { VIDEO_EXTENSIONS };

export interface FolderOptions {
  /** File extensions that count as videos, with or without the dot (default VIDEO_EXTENSIONS). */
  extensions?: readonly string[];
}

function extensionSet(extensions: unknown): Set<string> {
  if (!Array.isArray(extensions) || extensions.length === 0 || !extensions.every((e) => typeof e === 'string' && e !== '')) {
    throw invalid('a list of file extensions such as [".mp4"]', 'extensions', extensions);
  }
  return new Set(extensions.map((e: string) => (e.startsWith('.') ? e : `.${e}`).toLowerCase()));
}

export async function readFolderDataset(root: string, options: FolderOptions = {}): Promise<VideoDataset> {
  const extensions = extensionSet(options.extensions ?? VIDEO_EXTENSIONS);
  root = path.resolve(root);
  if (!(await isDirectory(root))) throw new MvclassError(`${root}: not a folder`, root);
  const folders = (await readdir(root, { withFileTypes: true }))
    .filter((e) => !e.name.startsWith('.') && (e.isDirectory() || e.isSymbolicLink()))
    .map((e) => e.name);
  const classes: string[] = [];
  const items: DatasetItem[] = [];
  for (const className of sortedNames(folders)) {
    const full = path.join(root, className);
    if (!(await isDirectory(full))) continue;
    const videos = await videosUnder(full, extensions);
    // A folder without videos is not a class: nothing could be trained or tested on it.
    if (videos.length === 0) continue;
    const label = classes.push(className) - 1;
    for (const video of videos) items.push({ path: video, label, className, split: 'train' });
  }
  if (classes.length === 0) {
    throw new MvclassError(`${root}: no class folders with videos (${[...extensions].join(' ')})`, root);
  }
  return { kind: 'folder', root, classes, items, missing: [] };
}
