import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readManifest } from '../../src/datasets/index.js';
import { MvclassError } from '../../src/util/errors.js';
import { makeTree, videos } from './trees.js';

describe('readManifest', () => {
  it('resolves relative paths against the CSV folder, ignores extra columns, reads quoted fields', async () => {
    const elsewhere = makeTree(videos('shared/b.mp4'));
    const root = makeTree({
      ...videos('data/videos/a.mp4', 'data/videos/with, comma.mp4', 'data/videos/c.mp4', 'data/d.mp4'),
      'data/list.csv': [
        'path,label,split,duration',
        'videos/a.mp4,cat,train,1.5',
        '"videos/with, comma.mp4",dog,test,2',
        `${path.join(elsewhere, 'shared', 'b.mp4')},cat,,3`,
        'videos/gone.mp4,dog,val,',
        'videos/c.mp4,"big bird",unused,0',
        './d.mp4,dog,val,1',
        '',
      ].join('\r\n'),
    });
    const csv = path.join(root, 'data', 'list.csv');
    const ds = await readManifest(csv);
    expect(ds.kind).toBe('manifest');
    expect(ds.root).toBe(csv);
    expect(ds.classes).toEqual(['big bird', 'cat', 'dog']);
    expect(ds.items).toEqual([
      { path: path.join(root, 'data/videos/a.mp4'), label: 1, className: 'cat', split: 'train' },
      { path: path.join(root, 'data/videos/with, comma.mp4'), label: 2, className: 'dog', split: 'test' },
      { path: path.join(elsewhere, 'shared/b.mp4'), label: 1, className: 'cat', split: 'train' },
      { path: path.join(root, 'data/videos/c.mp4'), label: 0, className: 'big bird', split: 'unused' },
      { path: path.join(root, 'data/d.mp4'), label: 2, className: 'dog', split: 'val' },
    ]);
    expect(ds.missing).toEqual([{ path: path.join(root, 'data/videos/gone.mp4'), reason: 'listed in list.csv but not found' }]);
  });

  it('accepts columns in any order and no split column (everything train)', async () => {
    const root = makeTree({ ...videos('a.mp4', 'b.mp4'), 'm.csv': 'label,path\nx,a.mp4\ny,b.mp4\n' });
    const ds = await readManifest(path.join(root, 'm.csv'));
    expect(ds.items.map((i) => [path.basename(i.path), i.label, i.split])).toEqual([
      ['a.mp4', 0, 'train'],
      ['b.mp4', 1, 'train'],
    ]);
  });

  it('names the file and line of a bad split, and requires a header', async () => {
    const root = makeTree({
      'bad.csv': 'path,label,split\na.mp4,x,train\n\nb.mp4,x,holdout\n',
      'noheader.csv': 'a.mp4,x,train\n',
      'empty.csv': 'path,label\n',
    });
    const bad = path.join(root, 'bad.csv');
    await expect(readManifest(bad)).rejects.toThrow(
      new MvclassError(`${bad}:4: expected split train, test, val or unused but found "holdout"`, bad),
    );
    const noHeader = path.join(root, 'noheader.csv');
    await expect(readManifest(noHeader)).rejects.toThrow(
      `${noHeader}: expected a header with path,label[,split] columns but found "a.mp4,x,train"`,
    );
    await expect(readManifest(path.join(root, 'empty.csv'))).rejects.toThrow(`${path.join(root, 'empty.csv')}: no videos listed`);
    await expect(readManifest(path.join(root, 'none.csv'))).rejects.toThrow(`manifest not found: ${path.join(root, 'none.csv')}`);
  });
});
