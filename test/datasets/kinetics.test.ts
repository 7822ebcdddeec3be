import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { kineticsClipName, readKinetics } from '../../src/datasets/index.js';
import { MvclassError } from '../../src/util/errors.js';
import { makeTree, videos } from './trees.js';

const HEADER = 'label,youtube_id,time_start,time_end,split,is_cc';
const KNOT = 'tying knot (not on a tie, or shoe)';

function kineticsTree(csv: string): string {
  return makeTree({
    'k400/train.csv': csv,
    ...videos(
      'k400/videos/abseiling/--07WQ2iBlw_000001_000011.mp4',
      'k400/videos/air drumming/abc123_000030_000040.mp4', // label folder with a space
      'k400/videos/air_drumming/flat1_000100_000110.mp4', // label folder with underscores
      'k400/videos/k1_000000_000010.mp4', // all clips in one folder
    ),
  });
}

const CSV = [
  HEADER,
  'abseiling,--07WQ2iBlw,1,11,train,0',
  '"air drumming",abc123,30,40,train,0',
  `"${KNOT}",k1,0,10,validate,0`,
  'abseiling,gone1,5,15,val,0',
  'air drumming,flat1,100,110,test,1',
  '',
].join('\r\n');

describe('readKinetics', () => {
  it('names clips <id>_<start:06d>_<end:06d>.mp4', () => {
    expect(kineticsClipName('-abc', 0, 10)).toBe('-abc_000000_000010.mp4');
    expect(kineticsClipName('x', 123456, 1234567)).toBe('x_123456_1234567.mp4');
  });

  it('reads labels with spaces and quoted commas, maps splits, finds clips per label or flat', async () => {
    const root = kineticsTree(CSV);
    const videosDir = path.join(root, 'k400', 'videos');
    const ds = await readKinetics(path.join(root, 'k400', 'train.csv'), videosDir);
    expect(ds.kind).toBe('kinetics');
    expect(ds.root).toBe(path.join(root, 'k400', 'train.csv'));
    expect(ds.classes).toEqual(['abseiling', 'air drumming', KNOT]);
    expect(ds.items.map((i) => [path.relative(videosDir, i.path), i.label, i.className, i.split])).toEqual([
      ['abseiling/--07WQ2iBlw_000001_000011.mp4', 0, 'abseiling', 'train'],
      ['air drumming/abc123_000030_000040.mp4', 1, 'air drumming', 'train'],
      ['k1_000000_000010.mp4', 2, KNOT, 'val'],
      ['air_drumming/flat1_000100_000110.mp4', 1, 'air drumming', 'test'],
    ]);
    expect(ds.missing).toEqual([
      { path: path.join(videosDir, 'abseiling', 'gone1_000005_000015.mp4'), reason: 'listed in train.csv but not found' },
    ]);
  });

  it('looks for clips next to the CSV by default', async () => {
    const root = makeTree({
      'train.csv': `${HEADER}\nabseiling,a1,0,10,train,0\n`,
      'abseiling/a1_000000_000010.mp4': '',
    });
    const ds = await readKinetics(path.join(root, 'train.csv'));
    expect(ds.items).toEqual([{ path: path.join(root, 'abseiling', 'a1_000000_000010.mp4'), label: 0, className: 'abseiling', split: 'train' }]);
  });

  it('names the file and line of a bad row, and a header without the needed columns', async () => {
    const bad = (row: string): string => path.join(kineticsTree(`${HEADER}\nabseiling,a,1,11,train,0\n${row}\n`), 'k400', 'train.csv');
    let file = bad('abseiling,b,1,11,holdout,0');
    await expect(readKinetics(file)).rejects.toThrow(
      new MvclassError(`${file}:3: expected split train, validate, val or test but found "holdout"`, file),
    );
    file = bad('abseiling,b,one,11,train,0');
    await expect(readKinetics(file)).rejects.toThrow(`${file}:3: expected whole seconds for time_start but found "one"`);
    file = path.join(kineticsTree('label,youtube_id,time_start\nabseiling,a,1\n'), 'k400', 'train.csv');
    await expect(readKinetics(file)).rejects.toThrow(`${file}: the header has no time_end, split column`);
    file = path.join(kineticsTree(`${HEADER}\n`), 'k400', 'train.csv');
    await expect(readKinetics(file)).rejects.toThrow(`${file}: no clips listed`);
  });
});
