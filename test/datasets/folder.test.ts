import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readFolderDataset, VIDEO_EXTENSIONS } from '../../src/datasets/index.js';
import { MvclassError } from '../../src/util/errors.js';
import { makeTree, videos } from './trees.js';

function folderTree(): string {
  return makeTree({
    ...videos(
      'walk/b.mp4',
      'walk/a.webm',
      'walk/sub/deeper/c.AVI', // nested, upper-case extension
      'run/x.mkv',
      'run/clip.h264',
      'run/notes.txt', // not a video
      'empty/readme.md', // a folder without videos is not a class
      '.cache/z.mp4', // hidden
      'stray.mp4', // not inside a class folder
    ),
  });
}

describe('readFolderDataset', () => {
  it('takes one class per sub-folder, sorted, and every video inside, recursively', async () => {
    const root = folderTree();
    const ds = await readFolderDataset(root);
    expect(ds.kind).toBe('folder');
    expect(ds.root).toBe(root);
    expect(ds.classes).toEqual(['run', 'walk']);
    expect(ds.items.map((i) => [path.relative(root, i.path), i.label, i.className, i.split])).toEqual([
      ['run/clip.h264', 0, 'run', 'train'],
      ['run/x.mkv', 0, 'run', 'train'],
      ['walk/a.webm', 1, 'walk', 'train'],
      ['walk/b.mp4', 1, 'walk', 'train'],
      ['walk/sub/deeper/c.AVI', 1, 'walk', 'train'],
    ]);
    expect(ds.missing).toEqual([]);
    expect(VIDEO_EXTENSIONS).toContain('.3gp');
  });

  it('takes a custom list of extensions, with or without the dot', async () => {
    const root = folderTree();
    const ds = await readFolderDataset(root, { extensions: ['txt', '.MD'] });
    expect(ds.classes).toEqual(['empty', 'run']);
    expect(ds.items.map((i) => path.relative(root, i.path))).toEqual(['empty/readme.md', 'run/notes.txt']);
    await expect(readFolderDataset(root, { extensions: [] })).rejects.toThrow(
      new MvclassError('Expected a list of file extensions such as [".mp4"] for extensions but received []'),
    );
  });

  it('rejects a folder without class folders of videos, and a path that is not a folder', async () => {
    const root = makeTree({ 'a.mp4': '', 'docs/readme.md': '' });
    await expect(readFolderDataset(root)).rejects.toThrow(`${root}: no class folders with videos (${VIDEO_EXTENSIONS.join(' ')})`);
    await expect(readFolderDataset(path.join(root, 'a.mp4'))).rejects.toThrow(`${path.join(root, 'a.mp4')}: not a folder`);
  });
});
