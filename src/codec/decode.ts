// decodeVideo: one decoding pass over a file, in batches, giving any mix of the frame records,
// raw motion-vector columns, MotionGrids and RGB key frames. readMotion, readMotionGrids and
// readKeyFrames are views of it; the extract command uses it to get everything in one pass.

import { MvclassError, withCallerStack } from '../util/errors.js';
import { MAX_CLIP_FRAMES, clipShortSide } from './clips.js';
import { integerInRange, oneOf, positiveInteger } from '../util/validate.js';
import { checkInputFile, checkInputOptions } from './input.js';
import { codecAddon, type NativeBatch, type NativeReader, type NativeVectorColumns } from './native.js';

export type PictureType = 'I' | 'P' | 'B' | '?';
export type GridUnits = 'pixels' | 'quarter-pel';
/** Which prediction list fills a grid: list0 looks back (P and B), list1 forward (B only). */
export type PredictionList = 'list0' | 'list1';

export interface FrameMeta {
  /** Display-order position, from 0. */
  index: number;
  /** Presentation time in seconds from the stream's start. */
  pts: number;
  type: PictureType;
  key: boolean;
  /** Size of the packet this frame was decoded from, in bits. */
  bits: number;
}

/**
 * One frame's (or one batch's) motion vectors as columns, the layout of FFmpeg's
 * AVMotionVector: motion = src - dst in 1/motionScale pixels; source -1 list 0, +1 list 1.
 */
export interface MotionVectors extends NativeVectorColumns {
  length: number;
}

export interface KeyFrame {
  index: number;
  pts: number;
  type: PictureType;
  width: number;
  height: number;
  /** Packed RGB24, width * height * 3 bytes. */
  data: Uint8Array;
}

export interface DecodeOptions {
  /** Keep the raw vector columns (default true). */
  vectors?: boolean;
  /** Build a MotionGrid per frame with this block size in pixels (default: none). */
  grid?: number;
  units?: GridUnits;
  list?: PredictionList;
  /** Convert I frames to RGB. */
  keyFrames?: boolean;
  /** Only the first I frame (the rest of the pass then skips the deblocking filter). */
  firstKeyFrameOnly?: boolean;
  keyFrameWidth?: number;
  keyFrameHeight?: number;
  /** Also convert the frames at these display indices (strictly increasing, at most MAX_CLIP_FRAMES)
   * to RGB with the short side `clipShortSide` (even; the long side scaled alike, rounded to even). */
  clipIndices?: number[];
  /** Instead of clipIndices: every clipStride-th display frame (0, k, 2k, ...) to the end, however
   * many, each handed over in the batch that decoded it (a stream of frames: the reader keeps none). */
  clipStride?: number;
  clipShortSide?: number;
  /** Frames per native batch (default 64). */
  batchSize?: number;
  /** Called with each warning (a truncated file, decode errors); default: process.emitWarning. */
  onWarning?: (message: string) => void;
  /** Demuxer and protocol options, as `ffmpeg -i` takes them (e.g. { rtsp_transport: 'tcp' }). */
  inputOptions?: Record<string, string>;
  /** false: a codec without motion vectors (MJPEG) is read too, its grids all holes; default:
   * refused when vectors or grids are asked for, since they would say nothing. */
  requireVectors?: boolean;
}

export interface DecodedBatch {
  frames: FrameMeta[];
  /** Columns for all frames of the batch; frame i owns [vectorStart[i], vectorStart[i] + vectorCount[i]). */
  vectors?: MotionVectors;
  vectorStart: Uint32Array;
  /** Vectors per frame (set even when the columns were not asked for). */
  vectorCount: Uint32Array;
  /** Per frame: sum of vector lengths in pixels. */
  magnitude: Float64Array;
  /** On the last batch only: the file's most frequent list-0 vector, in pixels. */
  dominant?: { dx: number; dy: number; count: number; list0: number } | null;
  /** [frames, 2, rows, cols] dx then dy, and [frames, rows, cols] mask. */
  grid?: { rows: number; cols: number; block: number; units: GridUnits; data: Float32Array | Int16Array; mask: Uint8Array };
  keyFrames: KeyFrame[];
  /** The frames of `clipIndices` (or `clipStride`) decoded in this batch, packed RGB24 (absent: none asked for). */
  clipFrames?: Array<{ index: number; width: number; height: number; data: Uint8Array }>;
}

export interface VideoStream {
  codec: string;
  width: number;
  height: number;
  fps: number;
}

const PICTURE_TYPES: Record<number, PictureType> = { 73: 'I', 80: 'P', 66: 'B' };

function defaultWarning(message: string): void {
  process.emitWarning(message, 'MvclassWarning');
}

export function sliceVectors(columns: NativeVectorColumns, start: number, count: number): MotionVectors {
  const end = start + count;
  return {
    length: count,
    source: columns.source.subarray(start, end),
    w: columns.w.subarray(start, end),
    h: columns.h.subarray(start, end),
    srcX: columns.srcX.subarray(start, end),
    srcY: columns.srcY.subarray(start, end),
    dstX: columns.dstX.subarray(start, end),
    dstY: columns.dstY.subarray(start, end),
    flags: columns.flags.subarray(start, end),
    motionX: columns.motionX.subarray(start, end),
    motionY: columns.motionY.subarray(start, end),
    motionScale: columns.motionScale.subarray(start, end),
    ...(columns.refPoc ? { refPoc: columns.refPoc.subarray(start, end) } : {}),
  };
}

function convertBatch(batch: NativeBatch, options: Required<Pick<DecodeOptions, 'units'>> & { grid: number }): DecodedBatch {
  const f = batch.frames;
  const frames: FrameMeta[] = new Array(f.index.length);
  for (let i = 0; i < f.index.length; i++) {
    frames[i] = {
      index: f.index[i]!,
      pts: f.pts[i]!,
      type: PICTURE_TYPES[f.type[i]!] ?? '?',
      key: f.key[i] === 1,
      bits: f.bits[i]!,
    };
  }
  const out: DecodedBatch = {
    frames,
    vectorStart: f.vectorStart,
    vectorCount: f.vectorCount,
    magnitude: f.magnitude,
    keyFrames: batch.keyFrames.map((k) => ({ ...k, type: (k.type as PictureType) ?? 'I' })),
    ...(batch.clipFrames.length > 0 ? { clipFrames: batch.clipFrames } : {}),
  };
  if (batch.vectors) out.vectors = sliceVectors(batch.vectors, 0, batch.vectors.source.length);
  if (batch.grid) out.grid = { ...batch.grid, block: options.grid, units: options.units };
  if (batch.dominant) {
    const d = batch.dominant;
    out.dominant = d.qx === undefined ? null : { dx: d.qx / 4, dy: d.qy! / 4, count: d.count!, list0: d.list0 };
  }
  return out;
}

/** Decodes `file` once, yielding batches; decoding of the next batch overlaps your use of this one. */
export async function* decodeVideo(
  file: string,
  options: DecodeOptions = {},
  onOpen?: (stream: VideoStream) => void,
): AsyncGenerator<DecodedBatch> {
  const grid = options.grid === undefined ? 0 : positiveInteger(options.grid, 'grid');
  const units = oneOf(options.units ?? 'pixels', 'units', ['pixels', 'quarter-pel'] as const);
  const list = oneOf(options.list ?? 'list0', 'list', ['list0', 'list1'] as const);
  const batchSize = positiveInteger(options.batchSize ?? 64, 'batchSize');
  const keyWidth = integerInRange(options.keyFrameWidth ?? 0, 'keyFrameWidth', 0, 16384);
  const keyHeight = integerInRange(options.keyFrameHeight ?? 0, 'keyFrameHeight', 0, 16384);
  const clipIndices = options.clipIndices;
  if (clipIndices !== undefined) {
    if (clipIndices.length < 1 || clipIndices.length > MAX_CLIP_FRAMES) throw new MvclassError(`Expected 1 to ${MAX_CLIP_FRAMES} clipIndices but received ${clipIndices.length}`);
    clipIndices.forEach((k, i) => {
      if (!Number.isSafeInteger(k) || k < 0 || (i > 0 && k <= clipIndices[i - 1]!)) throw new MvclassError(`Expected strictly increasing clipIndices from 0 but received ${JSON.stringify(clipIndices)}`);
    });
  }
  const clipStride = options.clipStride === undefined ? undefined : positiveInteger(options.clipStride, 'clipStride');
  if (clipStride !== undefined && clipIndices !== undefined) throw new MvclassError('Expected clipIndices or clipStride, not both');
  const wantsClip = clipIndices !== undefined || clipStride !== undefined;
  const shortSide = wantsClip ? clipShortSide(options.clipShortSide, 'clipShortSide') : 0;
  const vectors = options.vectors ?? true;
  const keyFrames = options.keyFrames ?? false;
  const warn = options.onWarning ?? defaultWarning;
  await checkInputFile(file);
  const inputOptions = checkInputOptions(options.inputOptions);

  const reader: NativeReader = await withCallerStack(file, () =>
    codecAddon().openReader({
      path: file,
      vectors,
      grid,
      gridSource: list === 'list0' ? -1 : 1,
      gridUnits: units,
      keyFrames,
      firstKeyFrameOnly: options.firstKeyFrameOnly ?? false,
      keyWidth,
      keyHeight,
      ...(clipIndices !== undefined ? { clipIndices: [...clipIndices], clipShortSide: shortSide } : {}),
      ...(clipStride !== undefined ? { clipStride, clipShortSide: shortSide } : {}),
      requireVectors: (vectors || grid > 0) && options.requireVectors !== false,
      ...(inputOptions ? { inputOptions } : {}),
    }),
  );
  onOpen?.({ ...reader.summary });
  let pending: Promise<NativeBatch> | undefined;
  try {
    pending = withCallerStack(file, () => reader.read(batchSize));
    for (;;) {
      const batch: NativeBatch = await (pending as Promise<NativeBatch>);
      pending = undefined;
      for (const message of batch.warnings) warn(message);
      if (!batch.done) pending = withCallerStack(file, () => reader.read(batchSize));
      yield convertBatch(batch, { grid, units });
      if (batch.done) break;
    }
  } finally {
    // A consumer that stops early leaves a read in flight: let it settle before closing.
    if (pending) await pending.catch(() => undefined);
    reader.close();
  }
}
