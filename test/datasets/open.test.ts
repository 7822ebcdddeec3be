import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectLayout, openDataset, readFolderDataset, stratifiedSplit } from '../../src/datasets/index.js';
import { MvclassError } from '../../src/util/errors.js';
import { hmdb51Files, makeTree, ucf101Files, videos } from './trees.js';

describe('openDataset', () => {
  it('opens a UCF101 folder (classInd.txt in ucfTrainTestlist/ or the folder itself) with the chosen split', async () => {
    const root = makeTree(ucf101Files());
    expect(await detectLayout(root)).toBe('ucf101');
    const ds = await openDataset(root);
    expect(ds.kind).toBe('ucf101');
    expect(ds.classes).toEqual(['ApplyEyeMakeup', 'Basketball', 'HandstandPushups']);
    expect(ds.items.filter((i) => i.split === 'train')).toHaveLength(4);
    const two = await openDataset(root, { split: 2 });
    expect(two.items.filter((i) => i.split === 'train').map((i) => path.basename(i.path))).toEqual([
      'v_ApplyEyeMakeup_g01_c01.avi',
      'v_Basketball_g01_c01.avi',
      'v_HandStandPushups_g01_c01.avi',
    ]);
    expect((await openDataset(makeTree(ucf101Files('')))).kind).toBe('ucf101');
  });

  it('opens an HMDB51 folder (split files in testTrainMulti_7030_splits/ or the folder itself)', async () => {
    for (const dir of ['testTrainMulti_7030_splits/', '']) {
      const root = makeTree(hmdb51Files(dir));
      const ds = await openDataset(root, { split: 2 });
      expect(ds.kind).toBe('hmdb51');
      expect(ds.classes).toEqual(['brush_hair', 'cartwheel', 'wave']);
      expect(ds.items.map((i) => i.split)).toEqual(['test', 'train', 'train', 'unused', 'test', 'train', 'train']);
    }
  });

  it('opens a Kinetics CSV by its header, with clips in the videos option or next to the CSV', async () => {
    const csv = '"label","youtube_id","time_start","time_end","split"\n"air drumming",a1,0,10,train\n';
    const root = makeTree({ 'k.csv': csv, 'clips/air drumming/a1_000000_000010.mp4': '', 'a1_000000_000010.mp4': '' });
    expect(await detectLayout(path.join(root, 'k.csv'))).toBe('kinetics');
    const withVideos = await openDataset(path.join(root, 'k.csv'), { videos: path.join(root, 'clips') });
    expect(withVideos.kind).toBe('kinetics');
    expect(withVideos.classes).toEqual(['air drumming']);
    expect(withVideos.items.map((i) => i.path)).toEqual([path.join(root, 'clips', 'air drumming', 'a1_000000_000010.mp4')]);
    const nextToCsv = await openDataset(path.join(root, 'k.csv'));
    expect(nextToCsv.items.map((i) => i.path)).toEqual([path.join(root, 'a1_000000_000010.mp4')]);
  });

  it('opens any other CSV as a manifest', async () => {
    const root = makeTree({ ...videos('a.mp4', 'b.mp4'), 'list.CSV': 'path,label,split\na.mp4,x,test\nb.mp4,y,train\n' });
    const ds = await openDataset(path.join(root, 'list.CSV'));
    expect(ds.kind).toBe('manifest');
    expect(ds.items.map((i) => [path.basename(i.path), i.label, i.split])).toEqual([
      ['a.mp4', 0, 'test'],
      ['b.mp4', 1, 'train'],
    ]);
  });

  it('opens a folder per class and splits it, seeded, so every class is in train and test', async () => {
    const files = videos(...['jump', 'run', 'sit'].flatMap((c) => Array.from({ length: 6 }, (_, i) => `${c}/${c}${i}.mp4`)));
    const root = makeTree(files);
    expect(await detectLayout(root)).toBe('folder');
    const ds = await openDataset(root, { seed: 5, testFraction: 0.5 });
    expect(ds.kind).toBe('folder');
    expect(ds.classes).toEqual(['jump', 'run', 'sit']);
    for (const label of [0, 1, 2]) {
      const splits = ds.items.filter((i) => i.label === label).map((i) => i.split);
      expect(splits.filter((s) => s === 'test')).toHaveLength(3);
      expect(splits.filter((s) => s === 'train')).toHaveLength(3);
    }
    const plain = await readFolderDataset(root);
    expect(ds.items).toEqual(stratifiedSplit(plain.items, { seed: 5, testFraction: 0.5 }));
    expect((await openDataset(root)).items).toEqual(stratifiedSplit(plain.items));
  });

  it('rejects a path that does not exist and a file that is not a CSV', async () => {
    const root = makeTree({ 'a.mp4': '' });
    const gone = path.join(root, 'gone');
    await expect(openDataset(gone)).rejects.toThrow(new MvclassError(`${gone}: no such file or folder`, gone));
    await expect(openDataset(path.join(root, 'a.mp4'))).rejects.toThrow(
      `${path.join(root, 'a.mp4')}: expected a dataset folder or a .csv file`,
    );
    await expect(openDataset('')).rejects.toThrow('Expected a non-empty string for dataset but received ""');
  });
});
