import type { CroppedBits } from '../codec/crop.js';

// The prepared cache: what `mvclass prepare` writes and the training code reads.
//
//   <cache>/manifest.json   settings, software, classes, and one entry per video (below)
//   <cache>/motion-000.bin  motion grids of many videos back to back: int16 quarter-pels,
//                           [frames, 2, rows, cols] per video, little-endian (np.memmap-able)
//   <cache>/keys-000.bin    one RGB24 key frame (the IDR) per video, [height, width, 3]
//   <cache>/frames-000.bin  with `prepare --rgb T`: a decoded-frame clip per video, uint8 RGB
//                           [T, height, width, 3] (HWC, frames back to back); a clip is
//                           np.memmap(shard, uint8, 'r', offset, (T, height, width, 3)) with
//                           the entry's clip.offset, clip.frames, clip.height, clip.width
//
// Shards roll over at SHARD_BYTES, so a UCF-101-sized set is a few large files, not 13k small ones.
//
// Each video records its input file as prepare found it before reading it (`source`: size and
// modification time), so that a later prepare into the same folder, with the same settings and
// software, reuses the video while its file still agrees (app/prepare.ts). The field is optional:
// caches written before it (still version 1) read as before, and their videos are simply prepared
// again by the next run; readers that do not know it ignore it.

export const CACHE_FORMAT = 'mvclass-cache';
export const CACHE_VERSION = 1;
export const SHARD_BYTES = 512 * 1024 * 1024;

export interface CacheSettings {
  codec: 'h264' | 'hevc';
  /** null with asIs. */
  qp: number | null;
  crf: number | null;
  asIs: boolean;
  size: string | null;
  fps: number | null;
  grid: number;
  keySize: string;
  /** Frames per decoded-frame clip (prepare --rgb); absent: no clips (caches before clips read as
   * before, and a cache without them is not reused for a run that asks for them). */
  rgb?: number;
  /** The clips' short side in pixels (prepare --short-side); present exactly when rgb is. */
  shortSide?: number;
  /** The region of each picture that was re-encoded, "x,y,w,h" (prepare --roi; codec/region.ts);
   * absent: the whole picture (and a cache's settings read as before regions existed). */
  roi?: string;
  /** With a region per video (prepare --roi-file; config/regions.ts): a digest of the file's
   * regions, so a cache made with other regions is not reused; each video's is its `roi`. */
  roiFile?: string;
  /** With asIs: the videos were read without motion vectors (an intra-only codec, the JPEG cells of
   * study transcode), so their grids are all holes and only key frames and clips say anything;
   * absent: motion vectors required (and a cache's settings read as before). */
  noMotion?: true;
}

export interface ByteRange {
  shard: string;
  offset: number;
  bytes: number;
}

export interface CachedVideo {
  id: string;
  path: string;
  label: number;
  className: string;
  split: 'train' | 'test' | 'val' | 'unused';
  frames: number;
  rows: number;
  cols: number;
  fps: number;
  duration: number;
  /** One letter per frame: I, P, B or ?. */
  frameTypes: string;
  /** Bits of each frame's packet. */
  frameBits: number[];
  motion: ByteRange;
  keyFrame: (ByteRange & { width: number; height: number; index: number }) | null;
  /** The decoded-frame clip, exactly when the settings have `rgb`: `frames` (= rgb) frames of
   * height x width, bytes = frames * height * width * 3, in a frames-NNN.bin shard. */
  clip?: ByteRange & { frames: number; height: number; width: number };
  rates: { rOrig: number; rCropped: number | null; rCroppedEncoder: number | null; rMotion: number | null };
  /** The cropped stream, when there is one: bits of each access unit (decoding order, which is
   * display order: crop takes no B-frames) and of its parameter sets. What each classifier is
   * sent (the paper's R_3D, R_2D, I_SP) is computed from these. */
  cropped: CroppedBits | null;
  /** The input file when prepare read it; absent in older caches. */
  source?: SourceStamp;
  /** With a region file (settings.roiFile): the region "x,y,w,h" this video was re-encoded from;
   * absent: its whole picture. */
  roi?: string;
}

/** What says a file is unchanged: its size in bytes and its modification time (fs.Stats.mtimeMs). */
export interface SourceStamp {
  size: number;
  mtimeMs: number;
}

export interface CacheManifest {
  format: typeof CACHE_FORMAT;
  version: number;
  software: { mvclass: string; ffmpeg: string };
  settings: CacheSettings;
  dataset: { kind: string; root: string; classes: string[] };
  shards: string[];
  videos: CachedVideo[];
  failed: Array<{ path: string; reason: string }>;
}
