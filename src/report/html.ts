// A report folder: report.html that opens from disk with no server and no network (figures and
// images embedded as data: URIs, one small inline stylesheet, no scripts), beside every figure
// as .svg and .png and every table as .csv, .json and .md. Every file is written atomically;
// report.html last, so it only ever names files that are already there.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { assertParentExists, writeFileAtomically } from '../util/atomic.js';
import { MvclassError } from '../util/errors.js';
import type { Figure } from './figures.js';
import { csvTable, formatCell, markdownTable, type Cell } from './table.js';

export interface ReportFigure {
  /** File stem: <name>.svg and <name>.png. */
  name: string;
  caption: string;
  figure: Figure;
}

export interface ReportImage {
  /** File stem: <name>.png. */
  name: string;
  caption: string;
  png: Uint8Array;
}

export interface ReportTable {
  /** File stem: <name>.csv, <name>.json and <name>.md. */
  name: string;
  caption: string;
  header: string[];
  rows: Array<Array<string | number | null>>;
  /** Decimals for non-integer numbers in the HTML and Markdown (default: as the number prints). */
  digits?: number;
}

export interface ReportSection {
  heading: string;
  /** Plain text; blank lines separate paragraphs. */
  text?: string;
  figures?: ReportFigure[];
  /** Images laid side by side (e.g. MV activity maps). */
  images?: ReportImage[];
  tables?: ReportTable[];
}

export interface Report {
  title: string;
  subtitle?: string;
  sections: ReportSection[];
}

export interface WrittenReport {
  /** Path of report.html. */
  html: string;
  /** Every file written, report.html last. */
  files: string[];
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Width and height from a PNG's IHDR chunk; throws when the bytes are not a PNG. */
export function pngSize(png: Uint8Array, what = 'image'): { width: number; height: number } {
  if (png.length < 24 || PNG_SIGNATURE.some((b, i) => png[i] !== b)) throw new MvclassError(`${what}: not a PNG`);
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

function svgSize(svg: string, what: string): { width: number; height: number } {
  const open = /^\s*(?:<\?xml[^>]*>\s*)?<svg\b[^>]*>/.exec(svg);
  if (!open) throw new MvclassError(`${what}: not an SVG`);
  const width = /\swidth="([\d.]+)"/.exec(open[0]);
  const height = /\sheight="([\d.]+)"/.exec(open[0]);
  return { width: width ? Number(width[1]) : 0, height: height ? Number(height[1]) : 0 };
}

function dataUri(type: string, bytes: Uint8Array | string): string {
  return `data:${type};base64,${Buffer.from(bytes).toString('base64')}`;
}

function cellText(value: Cell, digits: number | undefined): string {
  if (typeof value === 'number' && digits === undefined) return String(value);
  return formatCell(value, digits);
}

/** { caption, header, rows }, one row a line; non-finite numbers become null. */
export function tableJson(t: ReportTable): string {
  const rows = t.rows.map((row) => `    ${JSON.stringify(row)}`).join(',\n');
  return `{\n  "caption": ${JSON.stringify(t.caption)},\n  "header": ${JSON.stringify(t.header)},\n  "rows": [\n${rows}\n  ]\n}\n`;
}

/** Checks names (safe file stems, unique ignoring case) and table shapes; throws on the first problem. */
export function checkReport(report: Report): void {
  const seen = new Map<string, string>();
  const claim = (name: string, what: string) => {
    if (!NAME.test(name)) throw new MvclassError(`report: ${what} name ${JSON.stringify(name)} is not a safe file name (letters, digits, . _ -)`);
    const key = name.toLowerCase();
    const earlier = seen.get(key);
    if (earlier !== undefined) throw new MvclassError(`report: ${what} name ${JSON.stringify(name)} is already used by ${earlier}`);
    seen.set(key, what);
  };
  for (const section of report.sections) {
    for (const f of section.figures ?? []) {
      claim(f.name, 'figure');
      svgSize(f.figure.svg, `figure ${f.name}`);
      pngSize(f.figure.png, `figure ${f.name}`);
    }
    for (const image of section.images ?? []) {
      claim(image.name, 'image');
      pngSize(image.png, `image ${image.name}`);
    }
    for (const t of section.tables ?? []) {
      claim(t.name, 'table');
      t.rows.forEach((row, i) => {
        if (row.length !== t.header.length) {
          throw new MvclassError(`report: table ${t.name} row ${i} has ${row.length} cells for ${t.header.length} columns`);
        }
      });
    }
  }
}

const STYLE = `
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2em; } .subtitle { color: #666; margin-top: 0; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 2em; }
.gallery { display: flex; flex-wrap: wrap; gap: 1.5em; align-items: flex-start; }
figure { margin: 0.5em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figure.map img { image-rendering: pixelated; }
figcaption { font-size: 0.9em; color: #444; max-width: 40em; } .files { font-size: 0.8em; color: #888; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
caption { text-align: left; font-weight: bold; padding-bottom: 0.3em; caption-side: top; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; } th { background: #f4f4f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
`.trim();

function links(names: string[]): string {
  return `<span class="files">${names.map((n) => `<a href="${escapeHtml(n)}">${escapeHtml(path.extname(n).slice(1))}</a>`).join(' · ')}</span>`;
}

function figureHtml(f: ReportFigure): string {
  const { width, height } = svgSize(f.figure.svg, `figure ${f.name}`);
  const dims = width > 0 && height > 0 ? ` width="${width}" height="${height}"` : '';
  return [
    '<figure>',
    `<img src="${dataUri('image/svg+xml', f.figure.svg)}"${dims} alt="${escapeHtml(f.caption)}">`,
    `<figcaption>${escapeHtml(f.caption)} ${links([`${f.name}.svg`, `${f.name}.png`])}</figcaption>`,
    '</figure>',
  ].join('\n');
}

function imageHtml(image: ReportImage): string {
  const { width, height } = pngSize(image.png, `image ${image.name}`);
  return [
    // No wider than the map (at least 240 px), so that a long caption wraps and maps sit side by side.
    `<figure class="map" style="max-width: ${Math.max(width, 240)}px">`,
    `<img src="${dataUri('image/png', image.png)}" width="${width}" height="${height}" alt="${escapeHtml(image.caption)}">`,
    `<figcaption>${escapeHtml(image.caption)} ${links([`${image.name}.png`])}</figcaption>`,
    '</figure>',
  ].join('\n');
}

function tableHtml(t: ReportTable): string {
  const head = `<tr>${t.header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>`;
  const body = t.rows.map(
    (row) => `<tr>${row.map((c) => `<td${typeof c === 'number' ? ' class="num"' : ''}>${escapeHtml(cellText(c, t.digits))}</td>`).join('')}</tr>`,
  );
  return [
    '<table>',
    `<caption>${escapeHtml(t.caption)} ${links([`${t.name}.csv`, `${t.name}.json`, `${t.name}.md`])}</caption>`,
    `<thead>${head}</thead>`,
    `<tbody>\n${body.join('\n')}\n</tbody>`,
    '</table>',
  ].join('\n');
}

/** The report as one self-contained HTML page (what writeReport saves as report.html). */
export function renderReportHtml(report: Report): string {
  checkReport(report);
  const parts = [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(report.title)}</title>`,
    `<style>\n${STYLE}\n</style>`,
    '</head>',
    '<body>',
    `<h1>${escapeHtml(report.title)}</h1>`,
  ];
  if (report.subtitle) parts.push(`<p class="subtitle">${escapeHtml(report.subtitle)}</p>`);
  for (const section of report.sections) {
    parts.push('<section>', `<h2>${escapeHtml(section.heading)}</h2>`);
    for (const paragraph of (section.text ?? '').split(/\n\s*\n/)) {
      if (paragraph.trim()) parts.push(`<p>${escapeHtml(paragraph.trim())}</p>`);
    }
    if (section.figures?.length) parts.push('<div class="gallery">', ...section.figures.map(figureHtml), '</div>');
    if (section.images?.length) parts.push('<div class="gallery">', ...section.images.map(imageHtml), '</div>');
    for (const t of section.tables ?? []) parts.push(tableHtml(t));
    parts.push('</section>');
  }
  parts.push('</body>', '</html>', '');
  return parts.join('\n');
}

/**
 * Writes <dir>/report.html and, beside it, every figure (<name>.svg, <name>.png), image
 * (<name>.png) and table (<name>.csv, <name>.json, <name>.md). `dir` is made when missing, but
 * its parent must exist. Returns the paths written.
 */
export async function writeReport(dir: string, report: Report): Promise<WrittenReport> {
  const html = renderReportHtml(report); // checks everything before the first write
  await assertParentExists(dir);
  await fs.mkdir(dir, { recursive: true });
  const files: string[] = [];
  const put = async (name: string, data: string | Uint8Array) => {
    const target = path.join(dir, name);
    await writeFileAtomically(target, data);
    files.push(target);
  };
  for (const section of report.sections) {
    for (const f of section.figures ?? []) {
      await put(`${f.name}.svg`, f.figure.svg);
      await put(`${f.name}.png`, f.figure.png);
    }
    for (const image of section.images ?? []) await put(`${image.name}.png`, image.png);
    for (const t of section.tables ?? []) {
      // Markdown: numbers as in the HTML, and a '|' inside a cell must not end it.
      const shown = t.rows.map((row) =>
        row.map((c) => (typeof c === 'string' ? c.replace(/\|/g, '\\|') : typeof c === 'number' && t.digits === undefined ? String(c) : c)),
      );
      await put(`${t.name}.csv`, csvTable(t.header, t.rows));
      await put(`${t.name}.json`, tableJson(t));
      await put(`${t.name}.md`, `${t.caption}\n\n${markdownTable(t.header, shown, t.digits)}`);
    }
  }
  await put('report.html', html);
  return { html: path.join(dir, 'report.html'), files };
}
