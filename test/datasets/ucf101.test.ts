import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readUcf101 } from '../../src/datasets/index.js';
import { MvclassError } from '../../src/util/errors.js';
import { crlf, makeTree, ucf101Files } from './trees.js';

describe('readUcf101', () => {
  it('reads split 1 with CRLF lists, the HandstandPushups spellings, and a missing video', async () => {
    const root = makeTree(ucf101Files());
    const ds = await readUcf101(root);
    expect(ds.kind).toBe('ucf101');
    expect(ds.root).toBe(root);
    expect(ds.classes).toEqual(['ApplyEyeMakeup', 'Basketball', 'HandstandPushups']);
    expect(ds.items.map((i) => [path.relative(root, i.path), i.label, i.className, i.split])).toEqual([
      ['ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi', 0, 'ApplyEyeMakeup', 'train'],
      ['ApplyEyeMakeup/v_ApplyEyeMakeup_g09_c01.avi', 0, 'ApplyEyeMakeup', 'train'],
      ['Basketball/v_Basketball_g08_c01.avi', 1, 'Basketball', 'train'],
      // Listed as v_HandstandPushups_..., on disk as v_HandStandPushups_...
      ['HandstandPushups/v_HandStandPushups_g08_c01.avi', 2, 'HandstandPushups', 'train'],
      ['ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi', 0, 'ApplyEyeMakeup', 'test'],
      ['Basketball/v_Basketball_g01_c01.avi', 1, 'Basketball', 'test'],
      // Listed under HandStandPushups/, the folder is HandstandPushups/.
      ['HandstandPushups/v_HandStandPushups_g01_c01.avi', 2, 'HandstandPushups', 'test'],
    ]);
    for (const item of ds.items) expect(fs.existsSync(item.path)).toBe(true);
    expect(ds.missing).toEqual([
      { path: path.join(root, 'Basketball/v_Basketball_g09_c01.avi'), reason: 'listed in trainlist01.txt but not found' },
    ]);
  });

  it('reads another split, and annotations kept in the root or given explicitly', async () => {
    const inRoot = makeTree(ucf101Files(''));
    const ds = await readUcf101(inRoot, { split: 2 });
    expect(ds.items.filter((i) => i.split === 'train').map((i) => path.basename(i.path))).toEqual([
      'v_ApplyEyeMakeup_g01_c01.avi',
      'v_Basketball_g01_c01.avi',
      'v_HandStandPushups_g01_c01.avi',
    ]);
    expect(ds.items.filter((i) => i.split === 'test').map((i) => i.label)).toEqual([0, 1, 2]);
    expect(ds.missing).toEqual([]);

    const elsewhere = makeTree(ucf101Files('lists/'));
    const explicit = await readUcf101(elsewhere, { annotations: path.join(elsewhere, 'lists') });
    expect(explicit.items).toHaveLength(7);
    expect(explicit.missing).toHaveLength(1);
  });

  it('validates the split number', async () => {
    const root = makeTree(ucf101Files());
    await expect(readUcf101(root, { split: 4 as 1 })).rejects.toThrow(
      new MvclassError('Expected an integer from 1 to 3 for split but received 4'),
    );
    await expect(readUcf101(root, { split: 0 as 1 })).rejects.toThrow('Expected an integer from 1 to 3 for split but received 0');
  });

  it('names the file, line and problem for a bad classInd.txt line', async () => {
    const root = makeTree({ ...ucf101Files(), 'ucfTrainTestlist/classInd.txt': crlf('1 ApplyEyeMakeup', 'two Basketball') });
    const file = path.join(root, 'ucfTrainTestlist', 'classInd.txt');
    const error = await readUcf101(root).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MvclassError);
    expect((error as MvclassError).message).toBe(`${file}:2: expected "<index> <ClassName>" but found "two Basketball"`);
    expect((error as MvclassError).path).toBe(file);
  });

  it('rejects a class index that is not in classInd.txt, and an index that contradicts the folder', async () => {
    const files = ucf101Files();
    const list = path.join('ucfTrainTestlist', 'trainlist01.txt');
    const bad = makeTree({ ...files, 'ucfTrainTestlist/trainlist01.txt': crlf('Basketball/v_Basketball_g08_c01.avi 2', 'Basketball/v_Basketball_g01_c01.avi 7') });
    await expect(readUcf101(bad)).rejects.toThrow(`${path.join(bad, list)}:2: class index 7 is not in classInd.txt`);
    const wrong = makeTree({ ...files, 'ucfTrainTestlist/trainlist01.txt': crlf('Basketball/v_Basketball_g08_c01.avi 1') });
    await expect(readUcf101(wrong)).rejects.toThrow(
      `${path.join(wrong, list)}:1: class index 1 is ApplyEyeMakeup but the video is in Basketball/`,
    );
    const unknown = makeTree({ ...files, 'ucfTrainTestlist/testlist01.txt': 'Boxing/v_Boxing_g01_c01.avi\n' });
    await expect(readUcf101(unknown)).rejects.toThrow(
      `${path.join(unknown, 'ucfTrainTestlist', 'testlist01.txt')}:1: class "Boxing" is not in classInd.txt`,
    );
    const noIndex = makeTree({ ...files, 'ucfTrainTestlist/trainlist01.txt': 'Basketball/v_Basketball_g08_c01.avi\n' });
    await expect(readUcf101(noIndex)).rejects.toThrow(
      `${path.join(noIndex, list)}:1: expected "<Class>/<video> <index>" but found "Basketball/v_Basketball_g08_c01.avi"`,
    );
  });

  it('names a missing annotation file', async () => {
    const files = ucf101Files();
    delete files['ucfTrainTestlist/testlist01.txt'];
    const root = makeTree(files);
    const list = path.join(root, 'ucfTrainTestlist', 'testlist01.txt');
    await expect(readUcf101(root)).rejects.toThrow(new MvclassError(`UCF101 annotation file not found: ${list}`, list));
    const bare = makeTree({ 'Basketball/v_Basketball_g01_c01.avi': '' });
    await expect(readUcf101(bare)).rejects.toThrow(`UCF101 annotation file not found: ${path.join(bare, 'classInd.txt')}`);
  });

  it('rejects a classInd.txt with no classes', async () => {
    const root = makeTree({ 'classInd.txt': '\r\n\r\n' });
    await expect(readUcf101(root)).rejects.toThrow(`${path.join(root, 'classInd.txt')}: no classes listed`);
  });
});
