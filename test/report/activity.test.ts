import { describe, expect, it } from 'vitest';
import { activityColour, activityKey, activityMap, hsvToRgb, ZERO_COLOUR } from '../../src/report/index.js';
import { decodePng, pixel, svgTexts } from './helpers.js';

function field(rows: number, cols: number, dx: number, dy: number) {
  return { rows, cols, dx: new Float32Array(rows * cols).fill(dx), dy: new Float32Array(rows * cols).fill(dy) };
}

/** Every pixel's colour, as "r,g,b" strings, with counts. */
function colours(png: ReturnType<typeof decodePng>): Map<string, number> {
  const seen = new Map<string, number>();
  for (let y = 0; y < png.height; y++) {
    for (let x = 0; x < png.width; x++) {
      const key = pixel(png, x, y).join(',');
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
  }
  return seen;
}

describe('activityMap', () => {
  it('is cols*blockPixels wide and rows*blockPixels high', () => {
    const png = decodePng(activityMap(field(3, 5, 1, 0), { blockPixels: 4 }));
    expect([png.width, png.height]).toEqual([20, 12]);
    const byDefault = decodePng(activityMap(field(30, 40, 1, 0)));
    expect([byDefault.width, byDefault.height]).toEqual([320, 240]);
  });

  it('colours +dx and -dx fields uniformly, each differently', () => {
    const right = colours(decodePng(activityMap(field(4, 6, 1, 0))));
    const left = colours(decodePng(activityMap(field(4, 6, -1, 0))));
    expect(right.size).toBe(1);
    expect(left.size).toBe(1);
    const [r] = [...right.keys()];
    const [l] = [...left.keys()];
    expect(r).not.toBe(l);
    expect(r).toBe('255,0,0'); // hue 0°, full brightness (the field's own 99th percentile)
    expect(l).toBe('0,255,255'); // hue 180°
    expect(r).not.toBe(ZERO_COLOUR.join(','));
  });

  it('draws zero vectors in the zero colour, blocks where they are', () => {
    const grid = field(2, 3, 0, 0);
    grid.dx[4] = 3; // row 1, column 1
    const png = decodePng(activityMap(grid, { blockPixels: 2 }));
    expect(colours(decodePng(activityMap(field(2, 2, 0, 0)))).size).toBe(1);
    expect(pixel(png, 0, 0)).toEqual([...ZERO_COLOUR]);
    expect(pixel(png, 5, 3)).toEqual([...ZERO_COLOUR]);
    expect(pixel(png, 2, 2)).toEqual([255, 0, 0]);
    expect(pixel(png, 3, 3)).toEqual([255, 0, 0]);
    expect(pixel(png, 1, 3)).toEqual([...ZERO_COLOUR]);
    expect(pixel(png, 4, 2)).toEqual([...ZERO_COLOUR]);
  });

  it('scales brightness by magnitude, saturating at maxMagnitude', () => {
    const grid = { rows: 1, cols: 3, dx: [2, 4, 8], dy: [0, 0, 0] };
    const png = decodePng(activityMap(grid, { blockPixels: 1, maxMagnitude: 4 }));
    expect(pixel(png, 0, 0)).toEqual([128, 0, 0]);
    expect(pixel(png, 1, 0)).toEqual([255, 0, 0]);
    expect(pixel(png, 2, 0)).toEqual([255, 0, 0]);
    // By default the 99th percentile of the non-zero magnitudes saturates: here the largest.
    const auto = decodePng(activityMap(grid, { blockPixels: 1 }));
    expect(pixel(auto, 0, 0)).toEqual([64, 0, 0]);
    expect(pixel(auto, 2, 0)).toEqual([255, 0, 0]);
  });

  it('maps direction to hue: up (dy < 0) and down differ from left and right', () => {
    const up = activityColour(0, -1, 1);
    const down = activityColour(0, 1, 1);
    expect(up).toEqual(hsvToRgb(90, 1, 1));
    expect(down).toEqual(hsvToRgb(270, 1, 1));
    expect(new Set([up, down, activityColour(1, 0, 1), activityColour(-1, 0, 1)].map(String)).size).toBe(4);
  });

  it('rejects grids whose planes do not fit and non-finite vectors', () => {
    expect(() => activityMap({ rows: 2, cols: 2, dx: [0, 0, 0], dy: [0, 0, 0, 0] })).toThrow(/do not fit a 2x2 grid/);
    expect(() => activityMap({ rows: 1, cols: 1, dx: [NaN], dy: [0] })).toThrow(/not finite/);
    expect(() => activityMap(field(1, 1, 1, 0), { blockPixels: 0 })).toThrow(/blockPixels/);
  });
});

describe('activityKey', () => {
  it('draws a gradient bar per direction with its range and unit, in the maps\' colours', async () => {
    const key = await activityKey({ maxMagnitude: 4, unit: 'px' });
    const texts = svgTexts(key.svg);
    expect(texts).toEqual(expect.arrayContaining(['Magnitude (px), saturating at 4', '→ right (+dx)', '↑ up (−dy)', '← left (−dx)', '↓ down (+dy)', '0.0', '4.0']));
    expect(texts.some((t) => t.includes('0 px: black; 4 px and longer: full brightness'))).toBe(true);
    // The bars end in the colours the maps give a saturated vector in each direction.
    for (const [dx, dy] of [[1, 0], [0, -1], [-1, 0], [0, 1]]) {
      const hex = `#${activityColour(4 * dx!, 4 * dy!, 4).map((c) => c.toString(16).padStart(2, '0')).join('')}`;
      expect(key.svg).toContain(`fill="${hex}"`);
    }
    const png = decodePng(key.png);
    const width = Number(/<svg\b[^>]*\swidth="([\d.]+)"/.exec(key.svg)![1]);
    expect(png.width).toBe(Math.ceil(2 * width));
  });

  it('rejects a range that is not positive', async () => {
    await expect(activityKey({ maxMagnitude: 0 })).rejects.toThrow(/maxMagnitude must be a positive number/);
    await expect(activityKey({ maxMagnitude: NaN })).rejects.toThrow(/maxMagnitude/);
  });
});
