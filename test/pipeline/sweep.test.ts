// sweep on the built-in action set: every promised table and figure, and a rerun that reuses
// every finished stage. The sweep is the suite's trained fixture (test/support/trained.ts: made
// once per code version by runSweep, whose result it keeps); the rerun runs on a copy of it.

import { cpSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSweep } from '../../src/app/sweep.js';
import { tempDir } from '../setup/helpers.js';
import { trained, TRAINED_SWEEP } from '../support/trained.js';

describe('sweep', () => {
  it('writes the report with every table and figure, and a rerun reuses every stage', { timeout: 600_000 }, async () => {
    const { set, sweep: out, first } = await trained();
    expect(first.qps.map((q) => q.qp)).toEqual([30, 40]);
    for (const name of ['table1-rates', 'table3-accuracy', 'mcnn-check', 'stages']) {
      for (const ext of ['csv', 'json', 'md']) expect(existsSync(path.join(out, `${name}.${ext}`)), `${name}.${ext}`).toBe(true);
    }
    for (const name of ['fig3-rate-accuracy', 'fig6-mcnn-frontier', 'fig7-rmotion-gamma', 'fig9-r3d-fit', 'fig10-r2d-fit']) {
      for (const ext of ['svg', 'png']) expect(existsSync(path.join(out, `${name}.${ext}`)), `${name}.${ext}`).toBe(true);
    }
    expect(existsSync(path.join(out, 'fig2-activity-qp30.png')) && existsSync(path.join(out, 'fig2-activity-qp40.png'))).toBe(true);
    // Each network's training curves, the fused classifiers' confusion matrices, the maps' colour key.
    const more = ['fig2-activity-key', ...[30, 40].flatMap((qp) => [...['mv3d', 'mv2d', 'vgg16'].map((m) => `training-qp${qp}-${m}`), `confusion-qp${qp}-mv3d-F`, `confusion-qp${qp}-mv2d-F`])];
    for (const name of more) {
      for (const ext of ['svg', 'png']) expect(existsSync(path.join(out, `${name}.${ext}`)), `${name}.${ext}`).toBe(true);
    }
    // Rates fall as the QP rises; the motion share of the cropped stream is a share.
    const [q30, q40] = first.qps;
    expect(q40!.rates.rOrig!).toBeLessThan(q30!.rates.rOrig!);
    expect(q40!.rates.rMotion!).toBeLessThan(q30!.rates.rMotion!);
    const html = readFileSync(first.report, 'utf8');
    expect(html).toContain('Table I/II analogue');
    expect(html).toContain('paper (UCF-101)');
    for (const heading of ['Motion-vector activity (Fig. 2 analogue)', 'Training curves', 'Confusion of the fused classifiers']) expect(html).toContain(`<h2>${heading}</h2>`);
    expect(html).toContain('Training of the 3D CNN (mv3d) at QP 30');
    expect(html).toContain('3D-CNN-F at QP 40');
    expect(html).not.toContain('Not drawn:');
    expect(first.mcnn.videos.validation).toBeGreaterThan(0);

    // The rerun, on a copy (the fixture is shared): everything but the report is reused.
    const copy = path.join(tempDir(), 'sweep');
    cpSync(out, copy, { recursive: true });
    const second = await runSweep({ dataset: set, out: copy, ...TRAINED_SWEEP });
    const reused = second.stages.filter((s) => s.skipped).map((s) => s.stage);
    expect(reused).toEqual(expect.arrayContaining(['prepare QP 30', 'train mv3d QP 30', 'eval vgg16 QP 40', 'mcnn fit QP 30']));
    expect(second.stages.filter((s) => !s.skipped).map((s) => s.stage)).toEqual(['report']);
    // The kept check is the one the first run made, unbounded thresholds included.
    expect(second.checks).toEqual(first.checks);
  });
});
