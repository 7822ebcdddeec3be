// Reading a prepared cache: motion clips and key frames by index, straight from the shards.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { MvclassError } from '../util/errors.js';
import { compiledModule } from '../util/package.js';
import type { ByteRange, CacheManifest, CachedVideo } from './format.js';
import { checkShardRanges, parseCacheManifest } from './validate.js';

export interface CachedClip {
  frames: number;
  rows: number;
  cols: number;
  /** [frames, 2, rows, cols] quarter-pels. */
  data: Int16Array;
}

export interface CachedFrames {
  frames: number;
  height: number;
  width: number;
  /** [frames, height, width, 3] uint8 RGB. */
  data: Uint8Array;
}

async function readManifest(dir: string, file: string): Promise<string> {
  const handle = await fs.open(file, 'r').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw new MvclassError(`${dir}: not a prepared cache (no manifest.json); run mvclass prepare first`, dir);
    throw new MvclassError(`${file}: cannot open: ${error.message}`, file);
  });
  try {
    // A device or a pipe in its place would be read forever.
    if (!(await handle.stat()).isFile()) throw new MvclassError(`${file}: not a regular file`, file);
    return await handle.readFile('utf8').catch((error: Error) => {
      throw new MvclassError(`${file}: cannot read: ${error.message}`, file);
    });
  } finally {
    await handle.close();
  }
}

/**
 * Each shard's size, after checking that it is a regular file inside the cache folder once links
 * are resolved (the names are plain file names already; a link could still point elsewhere).
 */
async function shardSizes(dir: string, file: string, shards: readonly string[]): Promise<Map<string, number>> {
  const root = await fs.realpath(dir);
  const sizes = new Map<string, number>();
  for (const shard of shards) {
    const real = await fs.realpath(path.resolve(dir, shard)).catch(() => {
      throw new MvclassError(`${file}: shard ${shard} is missing from ${dir}`, file);
    });
    if (path.dirname(real) !== root) throw new MvclassError(`${file}: shard ${shard} lies outside ${dir} (${real})`, file);
    const stat = await fs.stat(real);
    if (!stat.isFile()) throw new MvclassError(`${file}: shard ${shard} is not a regular file`, file);
    sizes.set(shard, stat.size);
  }
  return sizes;
}

export class PreparedCache {
  private constructor(
    readonly dir: string,
    readonly manifest: CacheManifest,
    readonly videos: CachedVideo[],
    // Shared with every subset() view, so that closing any of them closes the files once.
    private readonly handles = new Map<string, Promise<fs.FileHandle>>(),
    /** The split this view holds (subset), or null for the whole cache. */
    readonly split: CachedVideo['split'] | null = null,
  ) {}

  static async open(dir: string): Promise<PreparedCache> {
    const file = path.join(dir, 'manifest.json');
    const text = await readManifest(dir, file);
    const manifest = parseCacheManifest(text, file);
    checkShardRanges(manifest, file, await shardSizes(dir, file, manifest.shards));
    return new PreparedCache(dir, manifest, manifest.videos);
  }

  get length(): number {
    return this.videos.length;
  }

  get classes(): string[] {
    return this.manifest.dataset.classes;
  }

  /** A view holding only the videos of `split`. */
  subset(split: CachedVideo['split']): PreparedCache {
    return new PreparedCache(this.dir, this.manifest, this.videos.filter((v) => v.split === split), this.handles, split);
  }

  /** How a worker thread opens this view (the volume loader's sampling workers: src/volumes/workers.ts). */
  workerSource(): { module: string; name: string; args: { dir: string; split: CachedVideo['split'] | null } } {
    const module = compiledModule(import.meta.url, 'cache/read.js', ['src/cache/read.ts', 'src/cache/validate.ts', 'src/cache/format.ts'], 'the prepared cache reader');
    return { module, name: 'openPreparedCache', args: { dir: this.dir, split: this.split } };
  }

  label(i: number): number {
    return this.video(i).label;
  }

  video(i: number): CachedVideo {
    const v = this.videos[i];
    if (!v) throw new MvclassError(`${this.dir}: no video ${i} (the cache holds ${this.videos.length})`);
    return v;
  }

  private async read(v: CachedVideo, what: 'motion' | 'keyFrame' | 'clip', range: ByteRange): Promise<Uint8Array> {
    let handle = this.handles.get(range.shard);
    if (!handle) {
      handle = fs.open(path.join(this.dir, range.shard), 'r');
      this.handles.set(range.shard, handle);
    }
    // Its own buffer (not Node's pool) so that the Int16Array view is aligned.
    const buffer = new Uint8Array(range.bytes);
    const { bytesRead } = await (await handle).read(buffer, 0, range.bytes, range.offset);
    if (bytesRead !== range.bytes) {
      throw new MvclassError(`${path.join(this.dir, range.shard)}: truncated since the cache was opened (video ${JSON.stringify(v.id)}: ${what} wants ${range.bytes} bytes at ${range.offset})`);
    }
    return buffer;
  }

  async clip(i: number): Promise<CachedClip> {
    const v = this.video(i);
    const b = await this.read(v, 'motion', v.motion);
    return { frames: v.frames, rows: v.rows, cols: v.cols, data: new Int16Array(b.buffer, b.byteOffset, b.byteLength / 2) };
  }

  async keyFrame(i: number): Promise<{ width: number; height: number; data: Uint8Array } | null> {
    const v = this.video(i);
    const k = v.keyFrame;
    if (!k) return null;
    return { width: k.width, height: k.height, data: await this.read(v, 'keyFrame', k) };
  }

  /** The video's decoded-frame clip, [frames, height, width, 3] uint8 RGB; null when the cache has none. */
  async frames(i: number): Promise<CachedFrames | null> {
    const v = this.video(i);
    const c = v.clip;
    if (!c) return null;
    return { frames: c.frames, height: c.height, width: c.width, data: await this.read(v, 'clip', c) };
  }

  async close(): Promise<void> {
    for (const h of this.handles.values()) await (await h).close();
    this.handles.clear();
  }
}

/** A cache, or one split of it, as workerSource describes it (for a worker thread). */
export async function openPreparedCache(args: { dir: string; split: CachedVideo['split'] | null }): Promise<PreparedCache> {
  const cache = await PreparedCache.open(args.dir);
  return args.split === null ? cache : cache.subset(args.split);
}
