// NumPy .npy (format 1.0) writing, streamed: the header is written with room to spare and
// rewritten with the final shape once the first dimension is known.

import { promises as fs } from 'node:fs';

export type NpyArray = Float32Array | Int16Array | Uint8Array | Int32Array | Float64Array | Int8Array | Uint16Array;

export function npyDescr(array: NpyArray): string {
  if (array instanceof Float32Array) return '<f4';
  if (array instanceof Float64Array) return '<f8';
  if (array instanceof Int16Array) return '<i2';
  if (array instanceof Uint16Array) return '<u2';
  if (array instanceof Int32Array) return '<i4';
  if (array instanceof Int8Array) return '|i1';
  return '|u1';
}

const HEADER_BYTES = 128; // magic + version + length + dict, padded; ample for 4-D shapes

export function npyHeader(descr: string, shape: readonly number[]): Buffer {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims}), }`;
  const room = HEADER_BYTES - 10 - 1; // preamble, trailing newline
  if (dict.length > room) throw new Error(`npy header too long for shape [${shape.join(', ')}]`);
  dict = dict.padEnd(room, ' ') + '\n';
  const header = Buffer.alloc(HEADER_BYTES);
  header.write('\x93NUMPY', 0, 'latin1');
  header[6] = 1;
  header[7] = 0;
  header.writeUInt16LE(HEADER_BYTES - 10, 8);
  header.write(dict, 10, 'latin1');
  return header;
}

/** Writes arrays whose leading dimension grows as chunks arrive. */
export class NpyStreamWriter {
  private handle: fs.FileHandle | undefined;
  private rows = 0;
  private descr: string | undefined;

  constructor(
    private readonly path: string,
    private readonly rowShape: readonly number[],
  ) {}

  async append(chunk: NpyArray): Promise<void> {
    const rowSize = this.rowShape.reduce((a, b) => a * b, 1);
    if (chunk.length % rowSize !== 0) {
      throw new Error(`${this.path}: chunk of ${chunk.length} values is not whole rows of ${rowSize}`);
    }
    const descr = npyDescr(chunk);
    if (this.descr !== undefined && this.descr !== descr) throw new Error(`${this.path}: mixed dtypes`);
    if (!this.handle) {
      this.descr = descr;
      this.handle = await fs.open(this.path, 'w');
      await this.handle.write(npyHeader(descr, [0, ...this.rowShape]));
    }
    if (chunk.length > 0) await this.handle.write(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.rows += chunk.length / rowSize;
  }

  /** Rewrites the header with the final row count and closes the file. */
  async close(emptyDescr = '<f4'): Promise<number> {
    if (!this.handle) {
      this.handle = await fs.open(this.path, 'w');
      this.descr = emptyDescr;
      await this.handle.write(npyHeader(emptyDescr, [0, ...this.rowShape]));
    }
    await this.handle.write(npyHeader(this.descr ?? emptyDescr, [this.rows, ...this.rowShape]), 0, HEADER_BYTES, 0);
    await this.handle.close();
    this.handle = undefined;
    return this.rows;
  }

  async abort(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
  }
}

export interface NpyData {
  descr: string;
  shape: number[];
  data: Buffer;
}

/** Reads a .npy file written by this module or NumPy (format 1.x/2.x, C order). */
export async function readNpy(path: string): Promise<NpyData> {
  const bytes = await fs.readFile(path);
  if (bytes.subarray(0, 6).toString('latin1') !== '\x93NUMPY') throw new Error(`${path}: not a .npy file`);
  const major = bytes[6];
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = bytes.subarray(start, start + headerLength).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeText === undefined) throw new Error(`${path}: unreadable .npy header`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  return { descr, shape, data: bytes.subarray(start + headerLength) };
}
