// The MotionGrid rule of seed 004 on hand-made vector sets with known answers, and the grid
// built while decoding against the grid built from the same vectors afterwards.

import { describe, expect, it } from 'vitest';
import { GridMask, MotionGrid, probe, readMotion, readMotionGrids } from '../../src/index.js';
import { fixtures } from '../setup/helpers.js';

interface V {
  x: number; // top-left in pixels
  y: number;
  w?: number;
  h?: number;
  mx: number; // motion in quarter-pels (scale 4)
  my: number;
  source?: number;
}

function columns(vs: V[]) {
  return {
    source: vs.map((v) => v.source ?? -1),
    w: vs.map((v) => v.w ?? 8),
    h: vs.map((v) => v.h ?? 8),
    dstX: vs.map((v) => v.x + (v.w ?? 8) / 2),
    dstY: vs.map((v) => v.y + (v.h ?? 8) / 2),
    motionX: vs.map((v) => v.mx),
    motionY: vs.map((v) => v.my),
    motionScale: vs.map(() => 4),
  };
}

// A 5x5-block frame (40x40 px); the centre block (2,2) is the hole under test.
const around = {
  left: { x: 8, y: 16 },
  right: { x: 24, y: 16 },
  up: { x: 16, y: 8 },
  down: { x: 16, y: 24 },
};

describe('MotionGrid hole filling', () => {
  const grid = (vs: V[]) => MotionGrid.fromVectors(columns(vs), { width: 40, height: 40 });

  it('0 moving neighbours: the hole stays zero and flagged', () => {
    const g = grid([{ x: 0, y: 0, mx: 8, my: 4 }]);
    expect(g.at(2, 2)).toEqual([0, 0]);
    expect(g.mask[2 * 5 + 2]).toBe(GridMask.hole);
    expect(g.at(0, 0)).toEqual([2, 1]);
    expect(g.mask[0]).toBe(GridMask.coded);
  });

  it('1 moving neighbour is not enough', () => {
    const g = grid([{ ...around.left, mx: 8, my: 4 }]);
    expect(g.at(2, 2)).toEqual([0, 0]);
    expect(g.mask[12]).toBe(GridMask.hole);
  });

  it('2 neighbours: their mean', () => {
    const g = grid([
      { ...around.left, mx: 8, my: 4 },
      { ...around.up, mx: 16, my: -4 },
    ]);
    expect(g.at(2, 2)).toEqual([3, 0]);
    expect(g.mask[12]).toBe(GridMask.filled);
  });

  it('3 neighbours: their mean', () => {
    const g = grid([
      { ...around.left, mx: 4, my: 0 },
      { ...around.right, mx: 8, my: 4 },
      { ...around.down, mx: 24, my: 8 },
    ]);
    expect(g.at(2, 2)[0]).toBeCloseTo(3, 6);
    expect(g.at(2, 2)[1]).toBeCloseTo(1, 6);
    expect(g.mask[12]).toBe(GridMask.filled);
  });

  it('4 neighbours: their mean; filled blocks never feed other holes', () => {
    const g = grid([
      { ...around.left, mx: 4, my: 4 },
      { ...around.right, mx: 8, my: 8 },
      { ...around.up, mx: 12, my: 12 },
      { ...around.down, mx: 16, my: 16 },
    ]);
    expect(g.at(2, 2)).toEqual([2.5, 2.5]);
    // (1,1) touches left (1,2) and up (2,1): filled from those two coded blocks only.
    expect(g.at(1, 1)).toEqual([(1 + 3) / 2, (1 + 3) / 2]);
    // (0,0) touches no coded block.
    expect(g.mask[0]).toBe(GridMask.hole);
  });

  it('a zero vector counts as motion parameters (a skipped block is coded)', () => {
    const g = grid([
      { ...around.left, mx: 0, my: 0 },
      { ...around.right, mx: 8, my: 0 },
    ]);
    expect(g.at(2, 2)).toEqual([1, 0]);
  });
});

describe('MotionGrid geometry and units', () => {
  it('a 16x16 partition fills four 8x8 blocks; quarter-pel units keep integers', () => {
    const g = MotionGrid.fromVectors(columns([{ x: 16, y: 0, w: 16, h: 16, mx: -6, my: 3 }]), {
      width: 48,
      height: 16,
      units: 'quarter-pel',
    });
    expect(g.data).toBeInstanceOf(Int16Array);
    expect([g.rows, g.cols]).toEqual([2, 6]);
    expect(Array.from(g.dx)).toEqual([0, 0, -6, -6, 0, 0, 0, 0, -6, -6, 0, 0]);
    expect(Array.from(g.dy)).toEqual([0, 0, 3, 3, 0, 0, 0, 0, 3, 3, 0, 0]);
  });

  it('a 16-pixel grid averages the 8x8 partitions inside a block by area', () => {
    const g = MotionGrid.fromVectors(
      columns([
        { x: 0, y: 0, mx: 4, my: 0 },
        { x: 8, y: 0, mx: 12, my: 0 },
        { x: 0, y: 8, w: 16, h: 8, mx: 0, my: 8 },
      ]),
      { width: 16, height: 16, block: 16 },
    );
    // dx: (1*64 + 3*64 + 0*128) / 256 = 1; dy: (0 + 0 + 2*128) / 256 = 1
    expect(g.at(0, 0)).toEqual([1, 1]);
  });

  it('list 1 vectors fill only a list-1 grid; partitions beyond the frame are clipped', () => {
    const vs = columns([
      { x: 0, y: 0, mx: 4, my: 4, source: 1 },
      { x: 32, y: 0, w: 16, h: 16, mx: 8, my: 8 }, // half outside a 40-pixel frame
    ]);
    const l0 = MotionGrid.fromVectors(vs, { width: 40, height: 8 });
    const l1 = MotionGrid.fromVectors(vs, { width: 40, height: 8, list: 'list1' });
    expect(Array.from(l0.dx)).toEqual([0, 0, 0, 0, 2]);
    expect(Array.from(l1.dx)).toEqual([1, 0, 0, 0, 0]);
    expect(l0.mask[0]).toBe(GridMask.hole);
  });

  it('MPEG-4 half-pel vectors (scale 2) come out in pixels', () => {
    const g = MotionGrid.fromVectors(
      { source: [-1], w: [16], h: [16], dstX: [8], dstY: [8], motionX: [3], motionY: [-5], motionScale: [2] },
      { width: 16, height: 16 },
    );
    expect(g.at(1, 1)).toEqual([1.5, -2.5]);
  });

  it('rejects bad specs with a message naming the argument', () => {
    expect(() => MotionGrid.fromVectors(columns([]), { width: 40, height: 40, block: 0 })).toThrow(
      'Expected a positive integer for block but received 0',
    );
    expect(() => MotionGrid.fromVectors(columns([]), { width: 40, height: 40, units: 'px' as never })).toThrow(
      'Expected one of "pixels", "quarter-pel" for units but received "px"',
    );
  });
});

describe('grids built while decoding', () => {
  const f = fixtures();
  it.each([
    ['H.264 with B-frames', f.clips['h264-b-cabac']!],
    ['MPEG-4 Part 2 real footage (400x300: a partial last block row)', f.real['inertie']!],
  ])('%s: equal to grids built from the same vectors afterwards', async (_name, file) => {
    const { width, height } = await probe(file);
    const vectorsByFrame = [];
    for await (const frame of readMotion(file)) vectorsByFrame.push(frame.vectors);
    let i = 0;
    let predicted = 0;
    for await (const frame of readMotionGrids(file, { grid: 8, batchSize: 9 })) {
      expect([frame.grid.rows, frame.grid.cols]).toEqual([Math.ceil(height / 8), Math.ceil(width / 8)]);
      const expected = MotionGrid.fromVectors(vectorsByFrame[i]!, { width, height });
      expect(Array.from(frame.grid.data)).toEqual(Array.from(expected.data));
      expect(Array.from(frame.grid.mask)).toEqual(Array.from(expected.mask));
      if (frame.type !== 'I') predicted++;
      i++;
    }
    expect(i).toBe(vectorsByFrame.length);
    expect(predicted).toBeGreaterThan(10);
  });
});
