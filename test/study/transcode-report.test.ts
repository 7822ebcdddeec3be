// The transcode study's report.html, built from a saved transcode.json and score records written
// here with known numbers (no encoding, no training): every table with the numbers it must hold,
// each also as CSV, JSON and Markdown, and the page opened from disk in headless Chromium with
// every figure decoded.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildTranscodeReport, transcodeComparison } from '../../src/app/transcode-report.js';
import type { TranscodeStudyResult } from '../../src/app/transcode-study.js';
import { infinityAsText } from '../../src/util/json.js';
import { tempDir } from '../setup/helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const out = tempDir('mvclass-transcode-report-');

const cell = (crf: number, gop: number, bytes: number, kbps: number, ssim: number, mae: number, mv3d: number, resnet18: number) => ({
  crf,
  gop,
  videos: 4,
  bytes,
  kbps,
  psnr: crf === 0 ? Infinity : 50 - crf / 2,
  ssim,
  mae,
  rmse: 1.5 * mae,
  accuracy: { mv3d, resnet18 },
});

// mv3d: 0.75 on the originals, flat to CRF 30, -0.25 at CRF 40 (GOP 1) or 50 (GOP 12).
// resnet18: 0.5, loses 25 points at CRF 30 at GOP 1 and at CRF 40 at GOP 12.
const result: TranscodeStudyResult = {
  dataset: '/data/set',
  shortSide: 144,
  preset: 'medium',
  failed: [],
  cells: [
    cell(0, 1, 8000, 800, 1, 0, 0.75, 0.5),
    cell(30, 1, 2000, 200, 0.97, 1.5, 0.75, 0.25),
    cell(40, 1, 1000, 100, 0.9, 3, 0.5, 0.25),
    cell(0, 12, 6000, 600, 1, 0, 0.75, 0.5),
    cell(30, 12, 1000, 100, 0.96, 2, 0.75, 0.5),
    cell(40, 12, 500, 50, 0.91, 4, 0.75, 0.25),
  ],
  original: { videos: 4, bytes: 4000, kbps: 400, accuracy: { mv3d: 0.75, resnet18: 0.5 } },
};

function scores(label: string, model: string, confusion: number[][]): void {
  const dir = path.join(out, 'accuracy', 'scores', label);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${model}.json`), JSON.stringify({ top1: 0, confusion, classes: ['jump', 'walk'] }));
}

let html: string;

beforeAll(async () => {
  result.comparison = transcodeComparison(result)!;
  writeFileSync(path.join(out, 'transcode.json'), JSON.stringify(result, infinityAsText, 2));
  // Per class at GOP 12 (the largest): mv3d on the originals gets 2/2 jump, 1/2 walk.
  scores('original', 'mv3d', [[2, 0], [1, 1]]);
  scores('crf0-gop12', 'mv3d', [[2, 0], [1, 1]]);
  scores('crf30-gop12', 'mv3d', [[1, 1], [0, 2]]);
  scores('crf40-gop12', 'mv3d', [[1, 1], [1, 1]]);
  // resnet18's record for CRF 40 is missing: no per-class table for it.
  scores('original', 'resnet18', [[1, 1], [1, 1]]);
  const file = await buildTranscodeReport(out);
  expect(file).toBe(path.join(out, 'report.html'));
  html = readFileSync(file, 'utf8');
}, 60_000);

const csv = (name: string) => readFileSync(path.join(out, `${name}.csv`), 'utf8').trim().split('\n');

describe('transcode report', () => {
  it('the size table: bytes, kbps and the size relative to the originals per (GOP, CRF)', () => {
    const rows = csv('transcode-sizes');
    expect(rows[0]).toBe('GOP,CRF,videos,bytes,kbps,size (% of original)');
    expect(rows[1]).toBe('original,,4,4000,400,100');
    expect(rows.slice(2)).toEqual(['1,0,4,8000,800,200', '1,30,4,2000,200,50', '1,40,4,1000,100,25', '12,0,4,6000,600,150', '12,30,4,1000,100,25', '12,40,4,500,50,12.5']);
    const json = JSON.parse(readFileSync(path.join(out, 'transcode-sizes.json'), 'utf8')) as { rows: unknown[][] };
    expect(json.rows[6]).toEqual([12, 40, 4, 500, 50, 12.5]);
    expect(readFileSync(path.join(out, 'transcode-sizes.md'), 'utf8')).toContain('| 12 | 40 | 4 | 500 | 50 | 12.5 |');
  });

  it('the quality table, lossless PSNR as Infinity', () => {
    const rows = csv('transcode-quality');
    expect(rows[0]).toBe('GOP,CRF,PSNR (dB),SSIM,MAE,RMSE');
    expect(rows[1]).toBe('1,0,Infinity,1,0,0');
    expect(rows[3]).toBe('1,40,30,0.9,3,4.5');
  });

  it('the MV-vs-pixel table per cell and the CRF at which each family first loses more than a point, with its size', () => {
    const rows = csv('transcode-comparison');
    expect(rows[0]).toBe('GOP,CRF,kbps,size %,mv3d (MV) top-1 %,mv3d change,resnet18 (pixel) top-1 %,resnet18 change');
    expect(rows[1]).toBe('original,,400,100,75,0,50,0');
    expect(rows[3]).toBe('1,30,200,50,75,0,25,-25');
    expect(rows[4]).toBe('1,40,100,25,50,-25,25,-25');
    expect(csv('transcode-families')).toEqual([
      'family,models,GOP,CRF first > 1 pt lost,by,bytes,kbps,size %',
      'MV,mv3d,1,40,mv3d,1000,100,25',
      'MV,mv3d,12,none,,,,',
      'pixel,resnet18,1,30,resnet18,2000,200,50',
      'pixel,resnet18,12,40,resnet18,500,50,12.5',
    ]);
    expect(html).toContain('Motion vectors vs pixels under re-encoding');
  });

  it('the slopes over the degraded cells (MAE at least 1): mv3d and resnet18 against SSIM and MAE', () => {
    // Degraded: crf30/40 at both GOPs. resnet18 points: (0.97, 25), (0.9, 25), (0.96, 50), (0.91, 25).
    const x = [0.97, 0.9, 0.96, 0.91];
    const y = [25, 25, 50, 25];
    const mx = x.reduce((s, v) => s + v, 0) / 4;
    const my = y.reduce((s, v) => s + v, 0) / 4;
    const a = x.reduce((s, v, i) => s + (v - mx) * (y[i]! - my), 0) / x.reduce((s, v) => s + (v - mx) ** 2, 0);
    const rows = csv('transcode-slopes');
    expect(rows[0]).toBe('model,cells fitted,points per 0.01 SSIM,R² (SSIM),points per 1/256 MAE,R² (MAE)');
    const resnet = rows[2]!.split(',');
    expect(resnet[0]).toBe('resnet18');
    expect(resnet[1]).toBe('4');
    expect(Number(resnet[2])).toBeCloseTo(a / 100, 3);
    expect(html).toContain('crf30-gop1, crf40-gop1, crf30-gop12, crf40-gop12');
  });

  it('per-class accuracy relative to the originals at the largest GOP, from the score records', () => {
    expect(csv('per-class-mv3d')).toEqual(['class,CRF 0,CRF 30,CRF 40', 'jump,100,50,50', 'walk,100,200,100']);
    expect(html).not.toContain('per-class-resnet18');
  });

  it('renders in Chromium from disk: every figure decodes, no request leaves the page', { timeout: 60_000 }, async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    try {
      const page = await browser.newPage();
      const requests: string[] = [];
      page.on('request', (req) => {
        if (!req.url().startsWith('file:') && !req.url().startsWith('data:')) requests.push(req.url());
      });
      await page.goto(`file://${path.join(out, 'report.html')}`, { waitUntil: 'load' });
      const images = await page.$$eval('img', (imgs) => imgs.map((img) => ({ ok: img.complete && img.naturalWidth > 0, alt: img.alt })));
      // Top-1 vs CRF per model (2), vs kbps (1), vs SSIM and MAE per model (4), per class (1).
      expect(images).toHaveLength(8);
      expect(images.filter((i) => !i.ok)).toEqual([]);
      const captions = await page.$$eval('table caption', (cs) => cs.map((c) => c.textContent ?? ''));
      expect(captions.map((c) => c.replace(/ csv · json · md$/, ''))).toEqual([
        'Total size per (GOP, CRF)',
        'Quality per (GOP, CRF)',
        'Top-1 (%) per cell',
        'Top-1 (%) and its change from the originals (points) per cell, MV models first',
        'Per family and GOP: the CRF at which it first loses more than 1 point of top-1, and the size there',
        'Least-squares slope of top-1 against quality over the degraded cells',
        'mv3d: per-class top-1 at GOP 12 relative to the originals (%); blank where the originals got none of the class right',
      ]);
      expect(requests).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('videos left out of every cell are listed with their reason (none: no such table)', async () => {
    expect(existsSync(path.join(out, 'transcode-failed.csv'))).toBe(false);
    const other = tempDir('mvclass-transcode-report-failed-');
    const failed = [{ path: '/data/set/run/broken.mp4', reason: '/data/set/run/broken.mp4: no video frame could be decoded' }];
    writeFileSync(path.join(other, 'transcode.json'), JSON.stringify({ ...result, cells: result.cells.map(({ accuracy: _, ...c }) => c), original: { ...result.original, accuracy: undefined }, comparison: undefined, failed }, infinityAsText, 2));
    await buildTranscodeReport(other);
    expect(readFileSync(path.join(other, 'transcode-failed.csv'), 'utf8').trim().split('\n')).toEqual(['video,reason', '/data/set/run/broken.mp4,/data/set/run/broken.mp4: no video frame could be decoded']);
    expect(readFileSync(path.join(other, 'report.html'), 'utf8')).toContain('Videos left out');
  });

  it('a folder without a saved study is refused, naming the file', async () => {
    const empty = tempDir('mvclass-transcode-report-empty-');
    await expect(buildTranscodeReport(empty)).rejects.toThrow(`${path.join(empty, 'transcode.json')}: no transcode study saved here`);
  });
});

// The JPEG section from known numbers: four q-scales, q 2 too mild to count as degraded (MAE < 1).
describe('transcode report: the JPEG section', () => {
  const jpegOut = tempDir('mvclass-transcode-report-jpeg-');
  const jpegCell = (q: number, bytes: number, kbps: number, psnr: number, ssim: number, mae: number, resnet18: number) => ({ q, videos: 4, bytes, kbps, psnr, ssim, mae, rmse: 1.5 * mae, accuracy: { resnet18 } });
  const withJpeg: TranscodeStudyResult = {
    ...result,
    jpeg: [jpegCell(2, 8000, 800, 45, 0.99, 0.5, 0.5), jpegCell(10, 3000, 300, 38, 0.97, 1.5, 0.5), jpegCell(17, 2000, 200, 36, 0.95, 2, 0.45), jpegCell(31, 1000, 100, 33, 0.9, 3.5, 0.3)],
  };
  const table = (name: string) => readFileSync(path.join(jpegOut, `${name}.csv`), 'utf8').trim().split('\n');
  let page: string;

  beforeAll(async () => {
    writeFileSync(path.join(jpegOut, 'transcode.json'), JSON.stringify({ ...withJpeg, comparison: transcodeComparison(withJpeg) }, infinityAsText, 2));
    page = readFileSync(await buildTranscodeReport(jpegOut), 'utf8');
  }, 60_000);

  it('sizes relative to the originals and quality per q; top-1 per q with the MV network n/a', () => {
    expect(table('transcode-jpeg')).toEqual([
      'q,videos,bytes,kbps,size (% of original),PSNR (dB),SSIM,MAE,RMSE',
      'original,4,4000,400,100,,,,',
      '2,4,8000,800,200,45,0.99,0.5,0.75',
      '10,4,3000,300,75,38,0.97,1.5,2.25',
      '17,4,2000,200,50,36,0.95,2,3',
      '31,4,1000,100,25,33,0.9,3.5,5.25',
    ]);
    expect(table('transcode-jpeg-accuracy')).toEqual([
      'q,kbps,size %,SSIM,mv3d top-1 %,resnet18 top-1 %',
      'original,400,100,,75,50',
      '2,800,200,0.99,n/a (JPEG: no motion vectors),50',
      '10,300,75,0.97,n/a (JPEG: no motion vectors),50',
      '17,200,50,0.95,n/a (JPEG: no motion vectors),45',
      '31,100,25,0.9,n/a (JPEG: no motion vectors),30',
    ]);
    expect(page).toContain('<h2>JPEG</h2>');
    expect(page).toContain('JPEG q 2, 10, 17, 31');
  });

  it('the slope of resnet18 over the degraded JPEG cells (q 10, 17, 31), in points per 0.01 SSIM and per 1/256 MAE', () => {
    const fit = (x: number[], y: number[]) => {
      const mx = x.reduce((s, v) => s + v, 0) / x.length;
      const my = y.reduce((s, v) => s + v, 0) / y.length;
      return x.reduce((s, v, i) => s + (v - mx) * (y[i]! - my), 0) / x.reduce((s, v) => s + (v - mx) ** 2, 0);
    };
    const y = [50, 45, 30];
    const rows = table('transcode-jpeg-slopes');
    expect(rows).toHaveLength(2); // resnet18 alone: mv3d has no JPEG numbers to fit
    const [model, cells, ssim, , mae] = rows[1]!.split(',');
    expect([model, cells]).toEqual(['resnet18', '3']);
    expect(Number(ssim)).toBeCloseTo(fit([0.97, 0.95, 0.9], y) * 0.01, 3);
    expect(Number(mae)).toBeCloseTo(fit([1.5, 2, 3.5], y) * (255 / 256), 3);
    expect(page).toContain('(here 3 of 4: jpeg-q10, jpeg-q17, jpeg-q31)');
  });

  it('renders in Chromium: the JPEG figures decode (top-1 vs q, vs SSIM and vs MAE)', { timeout: 60_000 }, async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    try {
      const tab = await browser.newPage();
      await tab.goto(`file://${path.join(jpegOut, 'report.html')}`, { waitUntil: 'load' });
      const images = await tab.$$eval('img', (imgs) => imgs.map((img) => ({ ok: img.complete && img.naturalWidth > 0, src: img.getAttribute('src') ?? '' })));
      expect(images.filter((i) => !i.ok)).toEqual([]);
      // The H.264 section's 7 (no per-class figure: no score records here) and the JPEG section's 3.
      expect(images).toHaveLength(10);
    } finally {
      await browser.close();
    }
  });
});
