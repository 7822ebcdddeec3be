import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  activityMap,
  escapeHtml,
  linearFitFigure,
  rateAccuracyFigure,
  renderReportHtml,
  writeReport,
  type Figure,
  type Report,
} from '../../src/report/index.js';
import { count, decodePng, expectBalancedTags, tempDir } from './helpers.js';

let accuracy: Figure;
let fit: Figure;
let report: Report;

beforeAll(async () => {
  accuracy = await rateAccuracyFigure([
    {
      name: '3D-CNN-F',
      points: [
        { label: 'QP 30', rate: 112.3, accuracy: 0.881 },
        { label: 'QP 51', rate: 20, accuracy: 0.84 },
      ],
    },
  ]);
  fit = await linearFitFigure({ title: 'R_2D', x: [1, 2, 3], y: [5, 6, 7], a: 1, b: 4, r2: 1, xLabel: 'R_motion (kbps)', yLabel: 'R_2D (kbps)' });
  const still = { rows: 2, cols: 3, dx: [1, 0, -1, 2, 0, 0], dy: [0, 0, 0, 1, -1, 0] };
  report = {
    title: 'Rate-accuracy <of> MV CNNs',
    subtitle: 'UCF-101 & HMDB-51',
    sections: [
      {
        heading: 'Rates',
        text: 'First paragraph.\n\nSecond paragraph with <b>tags</b> & "quotes".',
        figures: [
          { name: 'fig3-rate-accuracy', caption: 'Fig. 3: accuracy vs rate per network', figure: accuracy },
          { name: 'fig9-r2d', caption: 'Fig. 9: R_2D against R_motion', figure: fit },
        ],
        tables: [
          {
            name: 'table1',
            caption: 'Table I: rates per QP (kbps)',
            header: ['QP', 'R_orig', 'R_cropped', 'R_motion', 'note'],
            rows: [
              [0, 4273.0, 321.3, 155.4, 'lossless-ish'],
              [30, 274.9, 112.3, 46.9, 'a, "quoted" | cell'],
              [51, 27.7, 20.0, 4.6, null],
            ],
          },
        ],
      },
      {
        heading: 'Motion-vector activity',
        images: [
          { name: 'map-qp30', caption: 'MV activity, QP 30', png: activityMap(still) },
          { name: 'map-qp51', caption: 'MV activity, QP 51', png: activityMap(still, { blockPixels: 4 }) },
        ],
      },
    ],
  };
});

describe('writeReport', () => {
  it('writes every promised file and report.html last', async () => {
    const dir = path.join(tempDir(), 'report');
    const written = await writeReport(dir, report);
    const expected = [
      'fig3-rate-accuracy.svg',
      'fig3-rate-accuracy.png',
      'fig9-r2d.svg',
      'fig9-r2d.png',
      'table1.csv',
      'table1.json',
      'table1.md',
      'map-qp30.png',
      'map-qp51.png',
      'report.html',
    ];
    expect(readdirSync(dir).sort()).toEqual([...expected].sort()); // no temporaries left behind
    expect(written.files.map((f) => path.basename(f)).sort()).toEqual([...expected].sort());
    expect(written.files.at(-1)).toBe(path.join(dir, 'report.html'));
    expect(written.html).toBe(path.join(dir, 'report.html'));

    expect(readFileSync(path.join(dir, 'fig3-rate-accuracy.svg'), 'utf8')).toBe(accuracy.svg);
    expect(new Uint8Array(readFileSync(path.join(dir, 'fig9-r2d.png')))).toEqual(fit.png);
    expect(decodePng(readFileSync(path.join(dir, 'map-qp51.png'))).width).toBe(12);

    expect(readFileSync(path.join(dir, 'table1.csv'), 'utf8')).toBe(
      'QP,R_orig,R_cropped,R_motion,note\n0,4273,321.3,155.4,lossless-ish\n30,274.9,112.3,46.9,"a, ""quoted"" | cell"\n51,27.7,20,4.6,\n',
    );
    const json = JSON.parse(readFileSync(path.join(dir, 'table1.json'), 'utf8'));
    expect(json).toEqual({ caption: 'Table I: rates per QP (kbps)', header: report.sections[0]!.tables![0]!.header, rows: report.sections[0]!.tables![0]!.rows });
    const md = readFileSync(path.join(dir, 'table1.md'), 'utf8');
    expect(md).toContain('Table I: rates per QP (kbps)');
    expect(md).toContain('| 30 | 274.9 | 112.3 | 46.9 | a, "quoted" \\| cell |');
    expect(md).toContain('| 51 | 27.7 | 20 | 4.6 | – |');
  });

  it('report.html holds every caption and cell, escaped, and nothing from the network', async () => {
    const dir = tempDir();
    await writeReport(dir, report);
    const html = readFileSync(path.join(dir, 'report.html'), 'utf8');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expectBalancedTags(html.replace(/<!DOCTYPE[^>]*>/, '').replace(/<(meta|img)\b[^>]*>/g, ''));
    expect(count(html, '<html')).toBe(1);
    expect(count(html, '</html>')).toBe(1);
    expect(count(html, '<body>')).toBe(1);
    expect(count(html, '</body>')).toBe(1);
    expect(html.indexOf('<body>')).toBeLessThan(html.indexOf('</body>'));

    // Nothing to fetch: no http(s) URL, no script, no external stylesheet or font.
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/<script|<link\b|@import|url\(/i);
    expect(count(html, '<style>')).toBe(1);

    for (const section of report.sections) {
      expect(html).toContain(`<h2>${escapeHtml(section.heading)}</h2>`);
      for (const f of section.figures ?? []) expect(html).toContain(escapeHtml(f.caption));
      for (const image of section.images ?? []) expect(html).toContain(escapeHtml(image.caption));
      for (const t of section.tables ?? []) {
        expect(html).toContain(escapeHtml(t.caption));
        for (const h of t.header) expect(html).toContain(`<th>${escapeHtml(h)}</th>`);
        for (const row of t.rows) {
          for (const cell of row) expect(html).toMatch(new RegExp(`<td[^>]*>${escapeHtml(cell === null ? '–' : String(cell)).replace(/[|.]/g, '\\$&')}</td>`));
        }
      }
    }
    expect(count(html, '<tr>')).toBe(4);

    // Text is escaped, never interpreted.
    expect(html).toContain('<h1>Rate-accuracy &#60;of&#62; MV CNNs</h1>');
    expect(html).toContain('UCF-101 &#38; HMDB-51');
    expect(html).toContain('Second paragraph with &#60;b&#62;tags&#60;/b&#62; &#38; &#34;quotes&#34;.');
    expect(html).not.toContain('<b>');

    // Figures and maps are embedded (the page opens alone) and link their local files.
    expect(count(html, 'src="data:image/svg+xml;base64,')).toBe(2);
    expect(count(html, 'src="data:image/png;base64,')).toBe(2);
    expect(count(html, '<figure class="map" style="max-width: 240px">')).toBe(2); // captions wrap at the map's width
    const embedded = /src="data:image\/svg\+xml;base64,([^"]+)"/.exec(html)![1]!;
    expect(Buffer.from(embedded, 'base64').toString('utf8')).toBe(accuracy.svg);
    for (const href of html.matchAll(/href="([^"]+)"/g)) expect(existsSync(path.join(dir, href[1]!))).toBe(true);
  });

  it('checks names and table shapes before writing anything', async () => {
    const dir = tempDir();
    const clash: Report = { title: 't', sections: [{ heading: 'h', figures: [{ name: 'x', caption: 'c', figure: fit }], images: [{ name: 'X', caption: 'c', png: fit.png }] }] };
    await expect(writeReport(dir, clash)).rejects.toThrow(/already used by figure/);
    await expect(writeReport(dir, { title: 't', sections: [{ heading: 'h', images: [{ name: '../up', caption: 'c', png: fit.png }] }] })).rejects.toThrow(/safe file name/);
    await expect(writeReport(dir, { title: 't', sections: [{ heading: 'h', images: [{ name: 'a', caption: 'c', png: new Uint8Array(30) }] }] })).rejects.toThrow(/not a PNG/);
    await expect(writeReport(dir, { title: 't', sections: [{ heading: 'h', tables: [{ name: 'a', caption: 'c', header: ['a', 'b'], rows: [[1]] }] }] })).rejects.toThrow(/row 0 has 1 cells for 2 columns/);
    expect(readdirSync(dir)).toEqual([]);
    await expect(writeReport(path.join(dir, 'missing', 'report'), report)).rejects.toThrow(/does not exist/);
  });

  it('replaces an earlier report in place and keeps unrelated files', async () => {
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'notes.txt'), 'keep me');
    await writeReport(dir, { title: 'first', sections: [] });
    await writeReport(dir, { title: 'second', sections: [{ heading: 'only text', text: 'hello' }] });
    const html = readFileSync(path.join(dir, 'report.html'), 'utf8');
    expect(html).toContain('<h1>second</h1>');
    expect(html).toContain('<p>hello</p>');
    expect(readdirSync(dir).sort()).toEqual(['notes.txt', 'report.html']);
  });

  it('formats table numbers with digits when asked', () => {
    const html = renderReportHtml({ title: 't', sections: [{ heading: 'h', tables: [{ name: 'a', caption: 'c', header: ['v'], rows: [[0.03456], [2]], digits: 2 }] }] });
    expect(html).toContain('<td class="num">0.03</td>');
    expect(html).toContain('<td class="num">2</td>');
  });
});
