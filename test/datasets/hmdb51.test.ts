import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readHmdb51 } from '../../src/datasets/index.js';
import { MvclassError } from '../../src/util/errors.js';
import { hmdb51Files, lf, makeTree } from './trees.js';

const rows = (root: string, items: Array<{ path: string; label: number; split: string }>): Array<[string, number, string]> =>
  items.map((i) => [path.relative(root, i.path), i.label, i.split]);

describe('readHmdb51', () => {
  it('reads tags 0/1/2 into unused/train/test, classes sorted, a missing video set aside', async () => {
    const root = makeTree(hmdb51Files());
    const ds = await readHmdb51(root);
    expect(ds.kind).toBe('hmdb51');
    expect(ds.classes).toEqual(['brush_hair', 'cartwheel', 'wave']);
    expect(rows(root, ds.items)).toEqual([
      ['brush_hair/brush_a.avi', 0, 'train'],
      ['brush_hair/brush_b.avi', 0, 'test'],
      ['cartwheel/cart_a.avi', 1, 'test'],
      ['cartwheel/cart_b.avi', 1, 'train'],
      ['wave/wave_a.avi', 2, 'train'],
      ['wave/wave_b.avi', 2, 'test'],
      ['wave/wave_c.avi', 2, 'unused'],
    ]);
    expect(ds.items.map((i) => i.className)).toEqual(['brush_hair', 'brush_hair', 'cartwheel', 'cartwheel', 'wave', 'wave', 'wave']);
    expect(ds.missing).toEqual([
      { path: path.join(root, 'brush_hair', 'brush_gone.avi'), reason: 'listed in brush_hair_test_split1.txt but not found' },
    ]);
  });

  it('reads split 2, and split files kept in the root or given explicitly', async () => {
    const root = makeTree(hmdb51Files(''));
    const ds = await readHmdb51(root, { split: 2 });
    expect(rows(root, ds.items)).toEqual([
      ['brush_hair/brush_a.avi', 0, 'test'],
      ['brush_hair/brush_b.avi', 0, 'train'],
      ['cartwheel/cart_a.avi', 1, 'train'],
      ['cartwheel/cart_b.avi', 1, 'unused'],
      ['wave/wave_a.avi', 2, 'test'],
      ['wave/wave_b.avi', 2, 'train'],
      ['wave/wave_c.avi', 2, 'train'],
    ]);
    expect(ds.missing).toEqual([]);
    const elsewhere = makeTree(hmdb51Files('splits/'));
    const explicit = await readHmdb51(elsewhere, { splits: path.join(elsewhere, 'splits') });
    expect(explicit.classes).toEqual(['brush_hair', 'cartwheel', 'wave']);
    expect(explicit.items).toHaveLength(7);
  });

  it('names the file, line and tag for a bad tag', async () => {
    const root = makeTree({ ...hmdb51Files(), 'testTrainMulti_7030_splits/wave_test_split1.txt': lf('wave_a.avi 1', 'wave_b.avi 3') });
    const file = path.join(root, 'testTrainMulti_7030_splits', 'wave_test_split1.txt');
    await expect(readHmdb51(root)).rejects.toThrow(new MvclassError(`${file}:2: expected tag 0, 1 or 2 but found "3"`, file));
    const noTag = makeTree({ ...hmdb51Files(), 'testTrainMulti_7030_splits/wave_test_split1.txt': lf('wave_a.avi') });
    await expect(readHmdb51(noTag)).rejects.toThrow(/wave_test_split1\.txt:1: expected "<video> <tag>" but found "wave_a\.avi"/);
  });

  it('names a missing split file, rejects a bad split number and a folder with no split files', async () => {
    const files = hmdb51Files();
    delete files['testTrainMulti_7030_splits/cartwheel_test_split2.txt'];
    const root = makeTree(files);
    const file = path.join(root, 'testTrainMulti_7030_splits', 'cartwheel_test_split2.txt');
    await expect(readHmdb51(root, { split: 2 })).rejects.toThrow(new MvclassError(`HMDB51 split file not found: ${file}`, file));
    await expect(readHmdb51(root, { split: '3' as unknown as 3 })).rejects.toThrow(/brush_hair_test_split3\.txt/);
    await expect(readHmdb51(root, { split: 5 as 1 })).rejects.toThrow('Expected an integer from 1 to 3 for split but received 5');
    const empty = makeTree({ 'wave/wave_a.avi': '' });
    await expect(readHmdb51(empty)).rejects.toThrow(`${empty}: no HMDB51 split files (<class>_test_split1.txt)`);
  });
});
