// File helpers shared by the readers: annotation text with its line numbers, and video lookup
// (which files are videos is decided here only).

import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { MvclassError } from '../util/errors.js';

export interface Line {
  /** 1-based, as an editor shows it. */
  number: number;
  text: string;
}

function code(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Reads a text file that must exist; `what` says what it is for in the error ("UCF101 annotation file"). */
export async function readText(file: string, what: string): Promise<string> {
  try {
    // Strip a byte-order mark: files saved by Windows tools often start with one.
    return (await readFile(file, 'utf8')).replace(/^\uFEFF/, '');
  } catch (error) {
    if (code(error) === 'ENOENT') throw new MvclassError(`${what} not found: ${file}`, file);
    if (code(error) === 'EISDIR') throw new MvclassError(`${file}: is a directory, expected ${what}`, file);
    throw new MvclassError(`${file}: cannot read ${what} (${(error as Error).message})`, file);
  }
}

/** The non-blank lines of a text, trimmed; `\r` goes too, since the official lists have CRLF endings. */
export function lines(text: string): Line[] {
  const out: Line[] = [];
  text.split('\n').forEach((raw, i) => {
    const trimmed = raw.replace(/\r/g, '').trim();
    if (trimmed !== '') out.push({ number: i + 1, text: trimmed });
  });
  return out;
}

export function lineError(file: string, line: number, problem: string): MvclassError {
  return new MvclassError(`${file}:${line}: ${problem}`, file);
}

export async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

export async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

interface Listing {
  /** Exact name -> whether it is a directory. */
  exact: Map<string, boolean>;
  /** Lower-cased name -> the name on disk. */
  folded: Map<string, string>;
}

/**
 * Finds listed videos with one readdir per folder instead of one stat per video (UCF101 lists 13k),
 * and falls back to a case-insensitive match per path segment: UCF101's folder HandstandPushups holds
 * files named v_HandStandPushups_*, and the list files use either spelling.
 */
export class VideoFinder {
  private readonly listings = new Map<string, Promise<Listing | undefined>>();

  private listing(dir: string): Promise<Listing | undefined> {
    let pending = this.listings.get(dir);
    if (!pending) {
      pending = readdir(dir, { withFileTypes: true }).then(
        (entries) => {
          const exact = new Map<string, boolean>();
          const folded = new Map<string, string>();
          for (const entry of entries) {
            exact.set(entry.name, entry.isDirectory());
            if (!folded.has(entry.name.toLowerCase())) folded.set(entry.name.toLowerCase(), entry.name);
          }
          return { exact, folded };
        },
        () => undefined,
      );
      this.listings.set(dir, pending);
    }
    return pending;
  }

  /** The absolute path of `relative` (segments split on / or \) under `base`, or undefined. */
  async find(base: string, relative: string): Promise<string | undefined> {
    const segments = relative.split(/[\\/]+/).filter((s) => s !== '' && s !== '.');
    let current = base;
    for (const [i, segment] of segments.entries()) {
      const listing = await this.listing(current);
      if (!listing) return undefined;
      const name = listing.exact.has(segment) ? segment : listing.folded.get(segment.toLowerCase());
      if (name === undefined) return undefined;
      const last = i === segments.length - 1;
      if (last && listing.exact.get(name)) return undefined; // a folder is not a video
      current = path.join(current, name);
    }
    return segments.length > 0 ? current : undefined;
  }
}

/** Deterministic class order for layouts that do not define one (code-unit order, not locale). */
export function sortedNames(names: Iterable<string>): string[] {
  return [...new Set(names)].sort();
}

/** The file extensions that count as videos wherever mvclass walks a folder (datasets, rates). */
export const VIDEO_EXTENSIONS: readonly string[] = [
  '.mp4', '.m4v', '.mov', '.mkv', '.avi', '.wmv', '.asf', '.flv', '.mpg', '.mpeg', '.ts', '.264', '.h264', '.hevc', '.265', '.webm', '.3gp',
];

/** Every video under `dir`, recursively, sorted so the order does not depend on the filesystem. */
export async function videosUnder(dir: string, extensions: ReadonlySet<string> = new Set(VIDEO_EXTENSIONS)): Promise<string[]> {
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

/** Files as given, folders walked (sorted) for video files. */
export async function listVideos(inputs: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const input of inputs) {
    const info = await stat(input).catch(() => null);
    if (!info) throw new MvclassError(`${input}: no such file or folder`, input);
    out.push(...(info.isDirectory() ? await videosUnder(input) : [input]));
  }
  return out;
}
