import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NpyStreamWriter, readNpy } from '../../src/index.js';
import { tempDir } from '../setup/helpers.js';

describe('NpyStreamWriter', () => {
  it('writes a NumPy 1.0 header (64-byte aligned) and rewrites the row count at the end', async () => {
    const file = path.join(tempDir(), 'a.npy');
    const writer = new NpyStreamWriter(file, [2, 3]);
    await writer.append(new Float32Array([1, 2, 3, 4, 5, 6]));
    await writer.append(new Float32Array([7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]));
    expect(await writer.close()).toBe(3);
    const bytes = readFileSync(file);
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]));
    const headerLength = bytes.readUInt16LE(8);
    expect((10 + headerLength) % 64).toBe(0);
    expect(bytes.subarray(10, 10 + headerLength).toString('latin1')).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(3, 2, 3\), \} *\n$/);
    const read = await readNpy(file);
    expect(read.shape).toEqual([3, 2, 3]);
    expect(Array.from(new Float32Array(read.data.buffer.slice(read.data.byteOffset, read.data.byteOffset + read.data.byteLength)))).toEqual(
      Array.from({ length: 18 }, (_, i) => i + 1),
    );
  });

  it('rejects partial rows and mixed types', async () => {
    const writer = new NpyStreamWriter(path.join(tempDir(), 'b.npy'), [4]);
    await expect(writer.append(new Int16Array(3))).rejects.toThrow(/not whole rows of 4/);
    await writer.append(new Int16Array(4));
    await expect(writer.append(new Float32Array(4))).rejects.toThrow(/mixed dtypes/);
    await writer.abort();
  });
});
