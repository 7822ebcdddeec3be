// MotionGrid: vectors on a grid of non-overlapping blocks (8x8 by default), the paper's input.
// Each partition's vector fills the blocks it covers (area-weighted when a block holds several
// partitions); a block with no vector whose 4-neighbours include two or more coded blocks takes
// their mean; other empty blocks are zero. The native reader builds grids in the decoding pass.

import { MvclassError } from '../util/errors.js';
import { oneOf, positiveInteger } from '../util/validate.js';
import { codecAddon } from './native.js';
import { decodeVideo, type DecodeOptions, type FrameMeta, type GridUnits, type PredictionList } from './decode.js';

/** Per-block provenance in MotionGrid.mask. */
export const GridMask = { hole: 0, coded: 1, filled: 2 } as const;

export class MotionGrid {
  constructor(
    readonly rows: number,
    readonly cols: number,
    readonly block: number,
    readonly units: GridUnits,
    /** [2, rows, cols]: dx plane then dy plane; motion = src - dst, as FFmpeg exports it. */
    readonly data: Float32Array | Int16Array,
    /** [rows, cols]: GridMask values. */
    readonly mask: Uint8Array,
  ) {
    if (data.length !== 2 * rows * cols || mask.length !== rows * cols) {
      throw new MvclassError(`MotionGrid: data of ${data.length} and mask of ${mask.length} do not fit ${rows}x${cols}`);
    }
  }

  get dx(): Float32Array | Int16Array {
    return this.data.subarray(0, this.rows * this.cols);
  }

  get dy(): Float32Array | Int16Array {
    return this.data.subarray(this.rows * this.cols);
  }

  /** [dx, dy] of block (x, y) in the grid's units. */
  at(x: number, y: number): [number, number] {
    const i = y * this.cols + x;
    return [this.data[i]!, this.data[this.rows * this.cols + i]!];
  }

  /** Builds a grid from vector columns already in hand (any numeric arrays). */
  static fromVectors(
    vectors: Record<'source' | 'w' | 'h' | 'dstX' | 'dstY' | 'motionX' | 'motionY' | 'motionScale', ArrayLike<number>> & { refPoc?: ArrayLike<number> },
    spec: {
      width: number;
      height: number;
      block?: number;
      list?: PredictionList;
      units?: GridUnits;
      /**
       * How a block covered by several prediction blocks is filled: "area", the area-weighted
       * mean (H.264 and the others), or "top-left", the vector of the one covering its top-left
       * pixel (HEVC's rule). Default: "top-left" for HEVC vectors (they carry refPoc), else "area".
       */
      rule?: 'area' | 'top-left';
    },
  ): MotionGrid {
    const width = positiveInteger(spec.width, 'width');
    const height = positiveInteger(spec.height, 'height');
    const block = positiveInteger(spec.block ?? 8, 'block');
    const units = oneOf(spec.units ?? 'pixels', 'units', ['pixels', 'quarter-pel'] as const);
    const list = oneOf(spec.list ?? 'list0', 'list', ['list0', 'list1'] as const);
    const rule = oneOf(spec.rule ?? (vectors.refPoc ? 'top-left' : 'area'), 'rule', ['area', 'top-left'] as const);
    const column = (values: ArrayLike<number>) => Int32Array.from(values);
    const result = codecAddon().buildGrid(
      {
        source: column(vectors.source),
        w: column(vectors.w),
        h: column(vectors.h),
        dstX: column(vectors.dstX),
        dstY: column(vectors.dstY),
        motionX: column(vectors.motionX),
        motionY: column(vectors.motionY),
        motionScale: column(vectors.motionScale),
      },
      { width, height, block, source: list === 'list0' ? -1 : 1, units, rule },
    );
    return new MotionGrid(result.rows, result.cols, block, units, result.data, result.mask);
  }
}

export interface MotionGridFrame extends FrameMeta {
  grid: MotionGrid;
}

export type ReadMotionGridsOptions = Pick<DecodeOptions, 'grid' | 'units' | 'list' | 'batchSize' | 'onWarning' | 'inputOptions'>;

/** Every frame as a MotionGrid (I frames are all holes), built natively while decoding. */
export async function* readMotionGrids(file: string, options: ReadMotionGridsOptions = {}): AsyncGenerator<MotionGridFrame> {
  const block = options.grid ?? 8;
  for await (const batch of decodeVideo(file, { ...options, grid: block, vectors: false })) {
    const g = batch.grid!;
    const cells = g.rows * g.cols;
    for (let i = 0; i < batch.frames.length; i++) {
      const grid = new MotionGrid(
        g.rows,
        g.cols,
        g.block,
        g.units,
        g.data.subarray(i * 2 * cells, (i + 1) * 2 * cells),
        g.mask.subarray(i * cells, (i + 1) * cells),
      );
      yield { ...batch.frames[i]!, grid };
    }
  }
}
