// buildRepeatsReport: a repeats study's numbers (metrics/repeats.ts) as report.html, with each
// table beside it as CSV, JSON and Markdown and the strip plot as SVG and PNG (src/report/html.ts,
// as the sweep's report).

import { stripFigure } from '../report/figures.js';
import { writeReport } from '../report/html.js';
import type { RepeatsSummary } from '../metrics/repeats.js';

export interface RepeatsReportData {
  model: string;
  repeats: number;
  /** Test views, "<temporal>x<crops>". */
  views: string;
  /** Each condition's cache folder, in the spec's order. */
  caches: string[];
  summary: RepeatsSummary;
}

const pct = (x: number) => Number((100 * x).toFixed(1));

export async function buildRepeatsReport(dir: string, d: RepeatsReportData): Promise<void> {
  const { conditions, matrix } = d.summary;
  await writeReport(dir, {
    title: `mvclass study repeats: ${d.model}, ${d.repeats} runs per condition`,
    subtitle: `conditions ${conditions.map((c) => c.name).join(', ')}; top-1 on the test split, ${d.views} views`,
    sections: [
      {
        heading: 'Accuracy over repeated runs',
        text: `Each condition's ${d.repeats} runs (seed = base seed + run) scored on the condition's own test split. Bytes: the condition's encoded videos, summed from its cache's frame sizes; saving: against ${conditions[0]!.name}.`,
        tables: [
          {
            name: 'repeats-summary',
            caption: 'top-1 (%) over the runs, and what the videos cost',
            header: ['condition', 'runs', 'min %', 'mean %', 'max %', 'bytes', 'saving %', 'cache'],
            rows: conditions.map((c, i) => [c.name, c.runs.length, pct(c.min), pct(c.mean), pct(c.max), c.bytes, pct(c.saving), d.caches[i]!]),
            digits: 1,
          },
        ],
        figures: [
          {
            name: 'repeats-strip',
            caption: 'Top-1 of every run on its own condition (points, in run order from left to right) and their mean (tick)',
            figure: await stripFigure(conditions.map((c) => ({ name: c.name, values: c.runs }))),
          },
        ],
      },
      {
        heading: 'Trained on x tested on',
        text: 'Rows: the condition the runs were trained on; columns: the condition whose test split scored them. Each cell: the mean top-1 over the runs, and the best run in brackets. The diagonal is the table above.',
        tables: [
          {
            name: 'repeats-matrix',
            caption: 'top-1 (%): mean (max) over the runs',
            header: ['trained on \\ tested on', ...conditions.map((c) => c.name)],
            rows: matrix.map((row, i) => [conditions[i]!.name, ...row.map((cell) => `${(100 * cell.mean).toFixed(1)} (${(100 * cell.max).toFixed(1)})`)]),
          },
        ],
      },
    ],
  });
}
