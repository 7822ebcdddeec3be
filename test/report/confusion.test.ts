import { describe, expect, it } from 'vitest';
import { confusionFigure } from '../../src/report/index.js';
import { decodePng, svgSize, svgTexts as texts } from './helpers.js';



describe('confusionFigure', () => {
  it('puts the class names on both axes and the counts in the cells', async () => {
    const classes = ['walk', 'run', 'jump & hop'];
    const figure = await confusionFigure({ classes, confusion: [[5, 1, 0], [2, 3, 1], [0, 0, 6]] }, { title: '3D-CNN-F at QP 30' });
    const t = texts(figure.svg);
    for (const c of ['walk', 'run', 'jump &amp; hop']) expect(t.filter((s) => s === c)).toHaveLength(2); // x and y axis
    expect(t).toEqual(expect.arrayContaining(['3D-CNN-F at QP 30', 'True class', 'Predicted class', '% of true class', '18 videos, 3 classes, top-1 77.8%']));
    // Every cell's count, zeros included at this size.
    for (const n of ['5', '1', '0', '2', '3', '6']) expect(t).toContain(n);
    expect(t.filter((s) => s === '0')).toHaveLength(3 + 1); // three cells and the legend's 0%
    const [w, h] = svgSize(figure.svg);
    const png = decodePng(figure.png);
    expect([png.width, png.height]).toEqual([Math.ceil(2 * w), Math.ceil(2 * h)]);
  });

  it('greys a class without videos instead of calling it 0%', async () => {
    const figure = await confusionFigure({ classes: ['a', 'b'], confusion: [[3, 1], [0, 0]] });
    expect(figure.svg).toContain('#e4e4e4');
    expect(texts(figure.svg).some((s) => s.includes('grey: no videos'))).toBe(true);
  });

  it('stays readable for 101 classes: every name on both axes, no counts, a bounded size', async () => {
    const classes = Array.from({ length: 101 }, (_, i) => `Class${String(i).padStart(3, '0')}`);
    const confusion = classes.map((_, t) => classes.map((__, p) => (t === p ? 8 : (t + p) % 17 === 0 ? 1 : 0)));
    const figure = await confusionFigure({ classes, confusion });
    const t = texts(figure.svg);
    for (const c of classes) expect(t.filter((s) => s === c)).toHaveLength(2);
    expect(t.filter((s) => /^\d+$/.test(s) && s !== '0' && s !== '100')).toEqual(expect.not.arrayContaining(['8']));
    const [w, h] = svgSize(figure.svg);
    expect(w).toBeLessThan(1100);
    expect(h).toBeLessThan(1100);
    expect(figure.svg.length).toBeLessThan(2_000_000);
    const png = decodePng(figure.png);
    expect(png.width).toBe(Math.ceil(2 * w));
  });

  it('rejects matrices that do not fit the classes', async () => {
    await expect(confusionFigure({ classes: ['a', 'b'], confusion: [[1, 0]] })).rejects.toThrow(/1 rows for 2 classes/);
    await expect(confusionFigure({ classes: ['a', 'b'], confusion: [[1, 0], [1]] })).rejects.toThrow(/row 1 \(b\) has 1 cells/);
    await expect(confusionFigure({ classes: ['a', 'b'], confusion: [[1, 0.5], [0, 1]] })).rejects.toThrow(/\[a, b\] must be a count/);
    await expect(confusionFigure({ classes: ['a', 'a'], confusion: [[1, 0], [0, 1]] })).rejects.toThrow(/class names repeat/);
  });
});
