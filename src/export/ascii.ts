// Text rows written as bytes: integers formatted straight into a growing Buffer. Template strings
// of every row were what made CSV export 3.8x slower than extract_mvs's printf (the decoding was
// never the cost); this keeps the text identical and the work per row to a few byte stores.

export class AsciiWriter {
  private buffer: Buffer;
  private length = 0;

  constructor(capacity = 1 << 16) {
    this.buffer = Buffer.allocUnsafe(capacity);
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(next, 0, 0, this.length);
    this.buffer = next;
  }

  /** A character given by its code (ASCII only). */
  char(code: number): this {
    this.reserve(1);
    this.buffer[this.length++] = code;
    return this;
  }

  /** Latin-1/ASCII text (separators, JSON metadata). */
  text(s: string): this {
    this.reserve(s.length * 3);
    this.length += this.buffer.write(s, this.length, 'utf8');
    return this;
  }

  /** An integer in decimal, right-aligned with spaces to `width` as printf's %Nd does. */
  int(value: number, width = 0): this {
    this.reserve(24 + width);
    let v = value < 0 ? -value : value;
    const digits = v < 10 ? 1 : v < 100 ? 2 : v < 1000 ? 3 : v < 10000 ? 4 : Math.floor(Math.log10(v)) + 1;
    const size = digits + (value < 0 ? 1 : 0);
    for (let pad = width - size; pad > 0; pad--) this.buffer[this.length++] = 32;
    if (value < 0) this.buffer[this.length++] = 45;
    let at = this.length + digits;
    this.length = at;
    do {
      this.buffer[--at] = 48 + (v % 10);
      v = Math.floor(v / 10);
    } while (v > 0);
    return this;
  }

  /** An unsigned integer in lower-case hexadecimal (printf's %x); bigint for 64-bit flags. */
  hex(value: number | bigint): this {
    return this.text(value.toString(16));
  }

  /** The bytes written so far (a view: take it before writing more). */
  bytes(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}
