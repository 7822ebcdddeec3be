// Reading a prepared cache: motion clips and key frames by index, straight from the shards.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { MvclassError } from '../util/errors.js';
import { CACHE_FORMAT, CACHE_VERSION, type CacheManifest, type CachedVideo } from './format.js';

export interface CachedClip {
  frames: number;
  rows: number;
  cols: number;
  /** [frames, 2, rows, cols] quarter-pels. */
  data: Int16Array;
}

export class PreparedCache {
  private constructor(
    readonly dir: string,
    readonly manifest: CacheManifest,
    readonly videos: CachedVideo[],
    // Shared with every subset() view, so that closing any of them closes the files once.
    private readonly handles = new Map<string, Promise<fs.FileHandle>>(),
  ) {}

  static async open(dir: string): Promise<PreparedCache> {
    const file = path.join(dir, 'manifest.json');
    const text = await fs.readFile(file, 'utf8').catch(() => {
      throw new MvclassError(`${dir}: not a prepared cache (no manifest.json); run mvclass prepare first`, dir);
    });
    let manifest: CacheManifest;
    try {
      manifest = JSON.parse(text) as CacheManifest;
    } catch (error) {
      throw new MvclassError(`${file}: damaged manifest: ${(error as Error).message}`, file);
    }
    if (manifest.format !== CACHE_FORMAT || manifest.version !== CACHE_VERSION) {
      throw new MvclassError(`${file}: not a cache of this version (format ${manifest.format} v${manifest.version})`, file);
    }
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
    return new PreparedCache(this.dir, this.manifest, this.videos.filter((v) => v.split === split), this.handles);
  }

  label(i: number): number {
    return this.video(i).label;
  }

  video(i: number): CachedVideo {
    const v = this.videos[i];
    if (!v) throw new MvclassError(`${this.dir}: no video ${i} (the cache holds ${this.videos.length})`);
    return v;
  }

  private async read(shard: string, offset: number, bytes: number): Promise<Uint8Array> {
    let handle = this.handles.get(shard);
    if (!handle) {
      handle = fs.open(path.join(this.dir, shard), 'r');
      this.handles.set(shard, handle);
    }
    // Its own buffer (not Node's pool) so that the Int16Array view is aligned.
    const buffer = new Uint8Array(bytes);
    const { bytesRead } = await (await handle).read(buffer, 0, bytes, offset);
    if (bytesRead !== bytes) throw new MvclassError(`${path.join(this.dir, shard)}: truncated (wanted ${bytes} bytes at ${offset})`);
    return buffer;
  }

  async clip(i: number): Promise<CachedClip> {
    const v = this.video(i);
    const b = await this.read(v.motion.shard, v.motion.offset, v.motion.bytes);
    return { frames: v.frames, rows: v.rows, cols: v.cols, data: new Int16Array(b.buffer, b.byteOffset, b.byteLength / 2) };
  }

  async keyFrame(i: number): Promise<{ width: number; height: number; data: Uint8Array } | null> {
    const k = this.video(i).keyFrame;
    if (!k) return null;
    return { width: k.width, height: k.height, data: await this.read(k.shard, k.offset, k.bytes) };
  }

  async close(): Promise<void> {
    for (const h of this.handles.values()) await (await h).close();
    this.handles.clear();
  }
}
