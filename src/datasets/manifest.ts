// Our own CSV manifest: a header naming path,label[,split] (other columns ignored), one video per row.
// Relative paths resolve against the CSV's folder so a manifest can travel with its videos.
// Paths may point anywhere the user can read (absolute, "..": datasets live on other disks): a
// manifest is the local user's own description of their data, read with their rights, and each
// listed file is only ever decoded as a video. The service never reads one. See
// docs/architecture.md, "Files on disk and what they are trusted with".

import path from 'node:path';
import { MvclassError } from '../util/errors.js';
import { headerIndex, parseCsv } from './csv.js';
import { isFile, lineError, readText, sortedNames } from './files.js';
import type { DatasetItem, MissingVideo, SplitName, VideoDataset } from './types.js';

const SPLITS: readonly SplitName[] = ['train', 'test', 'val', 'unused'];

export async function readManifest(csvPath: string): Promise<VideoDataset> {
  const file = path.resolve(csvPath);
  const base = path.dirname(file);
  const name = path.basename(file);
  const [header, ...rows] = parseCsv(await readText(file, 'manifest'), file);
  const columns = header ? headerIndex(header) : new Map<string, number>();
  const pathColumn = columns.get('path');
  const labelColumn = columns.get('label');
  const splitColumn = columns.get('split');
  if (pathColumn === undefined || labelColumn === undefined) {
    const found = header ? `"${header.fields.join(',')}"` : 'nothing';
    throw new MvclassError(`${file}: expected a header with path,label[,split] columns but found ${found}`, file);
  }
  if (rows.length === 0) throw new MvclassError(`${file}: no videos listed`, file);

  const rowsRead = rows.map(({ line, fields }) => {
    const video = (fields[pathColumn] ?? '').trim();
    const label = (fields[labelColumn] ?? '').trim();
    const splitText = splitColumn === undefined ? '' : (fields[splitColumn] ?? '').trim();
    if (video === '') throw lineError(file, line, 'empty path');
    if (label === '') throw lineError(file, line, 'empty label');
    const split = splitText === '' ? 'train' : SPLITS.find((s) => s === splitText);
    if (!split) throw lineError(file, line, `expected split train, test, val or unused but found "${splitText}"`);
    return { video: path.resolve(base, video), label, split };
  });

  // Classes come from every row, found or not, so labels do not shift when a video goes missing.
  const classes = sortedNames(rowsRead.map((r) => r.label));
  const labels = new Map(classes.map((c, i) => [c, i]));
  const items: DatasetItem[] = [];
  const missing: MissingVideo[] = [];
  for (const { video, label, split } of rowsRead) {
    if (await isFile(video)) items.push({ path: video, label: labels.get(label)!, className: label, split });
    else missing.push({ path: video, reason: `listed in ${name} but not found` });
  }
  return { kind: 'manifest', root: file, classes, items, missing };
}
