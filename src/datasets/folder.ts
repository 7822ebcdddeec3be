// The layout people make by hand: <root>/<class>/**/<video>, one sub-folder per class.

import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { MvclassError } from '../util/errors.js';
import { invalid } from '../util/validate.js';
import { isDirectory, sortedNames } from './files.js';
import type { DatasetItem, VideoDataset } from './types.js';

export const VIDEO_EXTENSIONS: readonly string[] = [
  '.mp4', '.avi', '.mkv', '.mov', '.mpg', '.mpeg', '.m4v', '.264', '.h264', '.webm', '.3gp',
];

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

/** Every video under `dir`, recursively, sorted so the order does not depend on the filesystem. */
async function videosUnder(dir: string, extensions: Set<string>): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue; // .DS_Store, ._ resource forks, .git
    const full = path.join(dir, entry.name);
    // Follow symbolic links: datasets are often assembled from links into a shared store.
    const directory = entry.isDirectory() || (entry.isSymbolicLink() && (await isDirectory(full)));
    if (directory) found.push(...(await videosUnder(full, extensions)));
    else if (extensions.has(path.extname(entry.name).toLowerCase())) found.push(full);
  }
  return found.sort();
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
