// Kinetics (400/600/700) as the official CSVs describe it: label,youtube_id,time_start,time_end,split[,is_cc],
// with clips saved as <youtube_id>_<start:06d>_<end:06d>.mp4, in per-label folders or all in one.
// Labels and ids become path parts unchecked: like a manifest CSV (manifest.ts), the CSV is the
// local user's own and may name files outside the videos folder.

import path from 'node:path';
import { MvclassError } from '../util/errors.js';
import { headerIndex, parseCsv } from './csv.js';
import { lineError, readText, sortedNames, VideoFinder } from './files.js';
import type { DatasetItem, MissingVideo, SplitName, VideoDataset } from './types.js';

const SPLITS = new Map<string, SplitName>([
  ['train', 'train'],
  ['validate', 'val'],
  ['val', 'val'],
  ['test', 'test'],
]);
const COLUMNS = ['label', 'youtube_id', 'time_start', 'time_end', 'split'] as const;

export function kineticsClipName(youtubeId: string, start: number, end: number): string {
  const pad = (n: number): string => String(n).padStart(6, '0');
  return `${youtubeId}_${pad(start)}_${pad(end)}.mp4`;
}

export async function readKinetics(csvPath: string, videosDir: string = path.dirname(csvPath)): Promise<VideoDataset> {
  const file = path.resolve(csvPath);
  const videos = path.resolve(videosDir);
  const name = path.basename(file);
  const [header, ...rows] = parseCsv(await readText(file, 'Kinetics CSV'), file);
  const columns = header ? headerIndex(header) : new Map<string, number>();
  const absent = COLUMNS.filter((c) => !columns.has(c));
  if (absent.length > 0) throw new MvclassError(`${file}: the header has no ${absent.join(', ')} column`, file);
  if (rows.length === 0) throw new MvclassError(`${file}: no clips listed`, file);

  const clips = rows.map(({ line, fields }) => {
    const get = (column: (typeof COLUMNS)[number]): string => (fields[columns.get(column)!] ?? '').trim();
    const label = get('label');
    if (label === '') throw lineError(file, line, 'empty label');
    if (get('youtube_id') === '') throw lineError(file, line, 'empty youtube_id');
    const time = (column: 'time_start' | 'time_end'): number => {
      // The official CSVs write whole seconds, some re-exports "10.0": both name the same clip.
      const value = get(column);
      if (!/^\d+(\.0*)?$/.test(value)) throw lineError(file, line, `expected whole seconds for ${column} but found "${value}"`);
      return Number(value);
    };
    const splitText = get('split');
    const split = SPLITS.get(splitText.toLowerCase());
    if (!split) throw lineError(file, line, `expected split train, validate, val or test but found "${splitText}"`);
    return { label, clip: kineticsClipName(get('youtube_id'), time('time_start'), time('time_end')), split };
  });

  // Classes come from every row, found or not, so labels do not shift with what was downloaded.
  const classes = sortedNames(clips.map((c) => c.label));
  const labels = new Map(classes.map((c, i) => [c, i]));
  const finder = new VideoFinder();
  const items: DatasetItem[] = [];
  const missing: MissingVideo[] = [];
  for (const { label, clip, split } of clips) {
    // Download scripts differ: "<label>/<clip>", "<label_with_underscores>/<clip>", or all clips flat.
    const found =
      (await finder.find(videos, path.join(label, clip))) ??
      (await finder.find(videos, path.join(label.replace(/ /g, '_'), clip))) ??
      (await finder.find(videos, clip));
    if (found) items.push({ path: found, label: labels.get(label)!, className: label, split });
    else missing.push({ path: path.join(videos, label, clip), reason: `listed in ${name} but not found` });
  }
  return { kind: 'kinetics', root: file, classes, items, missing };
}
