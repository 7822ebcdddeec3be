// The README's main job: `mvclass demo --quick` end to end, its honest numbers, and its report
// opened from disk in headless Chromium with every figure rendered.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { cli, LEARNING_THREADS, tempDir } from '../setup/helpers.js';

const CHROMIUM = '/usr/bin/chromium';

describe('mvclass demo --quick', () => {
  it('runs the whole pipeline, shows motion beating a single frame, and writes a report that renders', { timeout: 900_000 }, async () => {
    const out = tempDir();
    const r = await cli(['demo', '--quick', '--out', out, '--threads', String(LEARNING_THREADS)], 900_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('rendered pan (2, 1) px: recovered exactly');
    expect(r.stdout).toContain('motion beats a single frame at every QP');
    expect(r.stdout).toMatch(/QP 30 +\d+\.\d +\d+\.\d +\d+\.\d/);
    const report = path.join(out, 'sweep-quick', 'report.html');
    expect(existsSync(report)).toBe(true);

    // A second run reuses every finished stage.
    const again = await cli(['demo', '--quick', '--out', out, '--threads', String(LEARNING_THREADS)], 900_000);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/synthesize the action set: reused/);
    expect(again.stderr).toMatch(/train mv3d QP 30: reused/);
    expect(again.stderr).not.toMatch(/train \w+ QP \d+: \d/);

    // The report from disk, no server, no network: every figure decodes.
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      const requests: string[] = [];
      page.on('request', (req) => {
        if (!req.url().startsWith('file:') && !req.url().startsWith('data:')) requests.push(req.url());
      });
      await page.goto(`file://${report}`, { waitUntil: 'load' });
      const images = await page.$$eval('img', (imgs) => imgs.map((img) => ({ ok: img.complete && img.naturalWidth > 0, alt: img.alt, src: img.src.slice(0, 30) })));
      expect(images.length).toBeGreaterThanOrEqual(7); // Figs. 3, 6, 7, 9, 10 and two activity maps
      expect(images.filter((i) => !i.ok)).toEqual([]);
      expect(await page.textContent('body')).toContain('Multi-CNN at QP 30');
      expect(requests).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
