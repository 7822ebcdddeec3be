import { PNG } from 'pngjs';
import { expect } from 'vitest';
import { tempDir as makeTempDir } from '../setup/helpers.js';

export function tempDir(): string {
  return makeTempDir('mvclass-report-');
}

/** Every tag closed in order (a small well-formedness check, no XML parser needed). */
export function expectBalancedTags(markup: string): void {
  const stack: string[] = [];
  for (const m of markup.matchAll(/<(\/?)([A-Za-z][\w:.-]*)\b[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = m;
    if (selfClosing) continue;
    if (closing) expect(stack.pop(), `closing </${name}>`).toBe(name);
    else stack.push(name!);
  }
  expect(stack).toEqual([]);
}

export function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

/** Checks the PNG signature, decodes it and returns it. */
export function decodePng(bytes: Uint8Array): PNG {
  expect(Array.from(bytes.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const png = PNG.sync.read(Buffer.from(bytes));
  expect(png.width).toBeGreaterThan(0);
  expect(png.height).toBeGreaterThan(0);
  return png;
}

/** RGB of pixel (x, y). */
export function pixel(png: PNG, x: number, y: number): [number, number, number] {
  const o = (y * png.width + x) * 4;
  return [png.data[o]!, png.data[o + 1]!, png.data[o + 2]!];
}

/** The text of every <text> element of an SVG, each <tspan> line on its own. */
export function svgTexts(svg: string): string[] {
  return [...svg.matchAll(/<text\b[^>]*>(.*?)<\/text>/gs)].flatMap((m) => {
    const lines = [...m[1]!.matchAll(/<tspan\b[^>]*>(.*?)<\/tspan>/gs)].map((t) => t[1]!);
    return lines.length ? lines : [m[1]!];
  });
}

/** Width and height attributes of the root <svg>. */
export function svgSize(svg: string): [number, number] {
  const open = /<svg\b[^>]*>/.exec(svg)![0];
  return [Number(/\swidth="([\d.]+)"/.exec(open)![1]), Number(/\sheight="([\d.]+)"/.exec(open)![1])];
}
