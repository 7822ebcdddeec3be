// AsciiWriter formats integers as printf's %Nd and %x do (the CSV must stay byte-identical to
// extract_mvs's): checked against String/padStart over edge values and a seeded random sweep.

import { describe, expect, it } from 'vitest';
import { AsciiWriter } from '../../src/export/ascii.js';
import { mulberry32 } from '../../src/util/random.js';

const printf = (v: number, width: number) => String(v).padStart(width, ' ');

describe('AsciiWriter', () => {
  it('writes integers right-aligned like %Nd, negatives and wide values included', () => {
    const values = [0, 1, -1, 9, 10, -10, 99, 100, 999, 1000, -999, 9999, 10000, -32768, 32767, 65535, 2 ** 31 - 1, -(2 ** 31), 2 ** 53 - 1];
    for (const width of [0, 2, 4, 6]) {
      const w = new AsciiWriter(4);
      for (const v of values) w.int(v, width).char(44);
      expect(w.bytes().toString('latin1')).toBe(values.map((v) => printf(v, width) + ',').join(''));
    }
  });

  it('agrees with String() on 100k random int32 values and grows its buffer as needed', () => {
    const random = mulberry32(7);
    const values = Array.from({ length: 100_000 }, () => Math.floor((random() - 0.5) * 2 ** 32));
    const w = new AsciiWriter(8);
    for (const v of values) w.int(v, 4).char(10);
    expect(w.bytes().toString('latin1')).toBe(values.map((v) => printf(v, 4) + '\n').join(''));
  });

  it('writes hexadecimal from numbers and 64-bit bigints, and text', () => {
    const w = new AsciiWriter(1);
    w.text('0x').hex(255).char(32).hex(0xffffffffffffffffn).char(32).text('ok');
    expect(w.bytes().toString('latin1')).toBe('0xff ffffffffffffffff ok');
  });
});
